from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsSyncConfig(AppConfig):
    name = "channels_sync"
    verbose_name = _("Platform sync")

    def ready(self) -> None:
        # Every posting that moves available stock writes its outbox rows in its own
        # transaction (ARCHITECTURE.md §3 "Platform sync").
        from channels_sync import hooks

        hooks.register()

        from channels_sync.work import channels_work
        from wms.work import register_work_provider

        register_work_provider(channels_work)
