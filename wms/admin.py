from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from wms.models import TaskOutbox, User

admin.site.register(User, UserAdmin)


class GuardedAccessAttemptAdmin(AccessAttemptAdmin):
    """django-axes' admin, whose "clean up expired attempts" action deletes rows but declares
    no permission (so anyone who may view the attempts could run it): here it needs delete,
    like every admin action, which declares the permission it needs
    (``wms/tests/test_admin_actions.py`` walks them all)."""

    @admin.action(description=_("Clean up expired attempts"), permissions=["delete"])
    def cleanup_expired_attempts(self, request, queryset):
        return super().cleanup_expired_attempts(request, queryset)


admin.site.unregister(AccessAttempt)
admin.site.register(AccessAttempt, GuardedAccessAttemptAdmin)


class ReadOnlyAdmin(admin.ModelAdmin):
    """For the ledger, freezes and every audit table: shown, never added, edited or deleted in
    the admin (append-only history; changes go through the services)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    """The inline counterpart of ``ReadOnlyAdmin``."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(TaskOutbox)
class TaskOutboxAdmin(ReadOnlyAdmin):
    """Tasks waiting to be sent to the broker (``wms.outbox``): normally empty; rows here mean the
    broker was unreachable, and ``wms.drain_outbox`` sends them when it is back."""

    list_display = ("task", "args", "created_at", "attempts", "last_error")
    date_hierarchy = "created_at"
