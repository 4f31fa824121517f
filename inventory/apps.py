from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = _("Inventory")

    def ready(self) -> None:
        # inventory: stock — the bin lookup shows what a bin holds, and a bin holding stock
        # cannot be deactivated (warehouses never imports inventory; it calls these hooks).
        from inventory.selectors import stock as stock_selectors
        from warehouses import hooks as warehouse_hooks

        warehouse_hooks.register_bin_deactivation_guard(stock_selectors.bins_holding_stock)

        # The only-writer guard on every connection while developing (``make run``: the
        # server, the worker, the demo loader); see inventory/writer_guard.py.
        if settings.WMS_LEDGER_GUARD:
            from inventory import writer_guard

            writer_guard.install()
        warehouse_hooks.register_bin_contents_provider(stock_selectors.bin_stock_contents)
        warehouse_hooks.register_bin_search_provider(stock_selectors.bins_holding_goods)
        # wms: the job sweeper requeues import jobs whose worker died.
        from inventory.imports import jobs as import_jobs
        from wms.jobs import register_job_kind

        register_job_kind(import_jobs.job_kind())

        # The home page of work lists drafts left open and imports never committed.
        from inventory.work import inventory_work
        from wms.work import register_work_provider

        register_work_provider(inventory_work)
