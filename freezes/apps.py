from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FreezesConfig(AppConfig):
    name = "freezes"
    verbose_name = _("Freezes")
