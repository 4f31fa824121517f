from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AllocationConfig(AppConfig):
    name = "allocation"
    verbose_name = _("Store allocation")

    def ready(self) -> None:
        # the store sales resource registers itself with the import engine
        from allocation import imports  # noqa: F401
        from allocation.work import allocation_work
        from wms.work import register_work_provider

        register_work_provider(allocation_work)

        from allocation.lookups import store_lookup
        from inventory import hooks

        hooks.register_lookup("store", store_lookup, permission="allocation.view_store")
