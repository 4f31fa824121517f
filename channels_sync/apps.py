from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsSyncConfig(AppConfig):
    name = "channels_sync"
    verbose_name = _("Platform sync")

    def ready(self) -> None:
        # Every posting that moves available stock, and every change of a combo's recipe,
        # writes its outbox rows in its own transaction (ARCHITECTURE.md §3 "Platform sync").
        from channels_sync import hooks

        hooks.register()

        # wms: the job sweeper requeues product syncs whose worker died.
        from channels_sync.services import products
        from wms.jobs import register_job_kind

        register_job_kind(products.job_kind())

        # The import engine's bulk binding sheet (registers itself on import).
        from channels_sync import imports  # noqa: F401
        from channels_sync.work import channels_work
        from wms.work import register_work_provider

        register_work_provider(channels_work)
