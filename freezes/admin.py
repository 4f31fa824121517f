"""Admin of the freezes app: read-only (ARCHITECTURE.md §2 law 4, STYLE.md "admin.py").

Freezes, their lines and their append-only events can be looked at, filtered and searched, never
added, changed or deleted here, not even by a superuser: frozen quantities change only through
the freeze services (on the ledger), and an event is never edited or removed. Rules, release
requests and inspections are edited on the freezes screens, where the services check them.
"""

from django.contrib import admin

from freezes.models import (
    Freeze,
    FreezeEvent,
    FreezeJob,
    FreezeLine,
    FreezeRule,
    QualityInspection,
    ReleaseRequest,
)
from wms.admin import ReadOnlyAdmin, ReadOnlyInline


class FreezeLineInline(ReadOnlyInline):
    model = FreezeLine
    fields = ("balance", "goods", "warehouse", "quantity", "released", "shipped", "created_at")
    readonly_fields = fields


class FreezeEventInline(ReadOnlyInline):
    model = FreezeEvent
    fields = ("created_at", "kind", "actor", "rule", "quantity", "comment", "document_ref")
    readonly_fields = fields
    ordering = ("created_at", "id")


@admin.register(Freeze)
class FreezeAdmin(ReadOnlyAdmin):
    list_display = ("number", "reason", "status", "created_by", "rule", "created_at", "closed_at")
    list_filter = ("status", "reason", "rule")
    list_select_related = ("created_by", "rule")
    search_fields = ("id", "note", "source_ref")
    date_hierarchy = "created_at"
    inlines = [FreezeLineInline, FreezeEventInline]


@admin.register(FreezeLine)
class FreezeLineAdmin(ReadOnlyAdmin):
    list_display = ("freeze", "goods", "warehouse", "balance", "quantity", "released", "shipped")
    list_select_related = ("freeze", "goods", "warehouse", "balance")
    list_filter = ("warehouse",)
    search_fields = ("goods__sku", "freeze__id")
    raw_id_fields = ("freeze", "balance", "goods", "warehouse")


@admin.register(FreezeEvent)
class FreezeEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "freeze", "kind", "actor", "rule", "quantity", "document_ref")
    list_select_related = ("freeze", "actor", "rule")
    list_filter = ("kind",)
    search_fields = ("freeze__id", "actor__username", "document_ref", "comment")
    date_hierarchy = "created_at"


@admin.register(FreezeRule)
class FreezeRuleAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "reason", "release_mode", "is_active", "activated_at")
    list_filter = ("kind", "is_active")
    search_fields = ("name",)


@admin.register(ReleaseRequest)
class ReleaseRequestAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "freeze", "status", "quantity", "requested_by", "decided_by")
    list_select_related = ("freeze", "requested_by", "decided_by")
    list_filter = ("status",)


@admin.register(QualityInspection)
class QualityInspectionAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "freeze", "batch", "result", "passed_quantity", "failed_quantity")
    list_select_related = ("freeze", "batch", "inspector")
    list_filter = ("result",)


@admin.register(FreezeJob)
class FreezeJobAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "status", "total", "done", "freeze", "created_by", "created_at")
    list_select_related = ("freeze", "created_by")
    list_filter = ("status",)
