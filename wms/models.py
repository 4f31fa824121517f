from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """The project's user. Roles are Django groups (see wms.roles); store scoping hangs off users."""

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"


class Heartbeat(models.Model):
    """When background work last ran: ``wms.heartbeat`` (a periodic task sent by beat and run by
    a worker) stamps ``seen_at`` every 30 seconds, so an old stamp means the worker or beat is
    stopped (``wms.health.background_status``)."""

    name = models.CharField(_("name"), max_length=32, primary_key=True)
    seen_at = models.DateTimeField(_("last seen"))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.name} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"
