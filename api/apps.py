from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("Open API")

    def ready(self) -> None:
        from api.webhooks import domain_events, outbox

        outbox.register()
        domain_events.register()
