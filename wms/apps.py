from pathlib import Path

from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class WmsConfig(AppConfig):
    name = "wms"
    verbose_name = _("WMS")

    def ready(self) -> None:
        broker = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("data_folder_in")
        if broker:
            Path(broker).mkdir(parents=True, exist_ok=True)
            Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["processed_folder"]).mkdir(
                parents=True, exist_ok=True
            )
