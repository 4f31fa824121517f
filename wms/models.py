from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """The project's user. Roles are Django groups (see wms.roles); store scoping hangs off users."""

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"


class TaskOutbox(models.Model):
    """A Celery task to send once the transaction that asked for it has committed (``wms.jobs``).

    Written in the business transaction, so "run this" commits or rolls back with the data it
    is about; deleted once the broker has taken the message. A row still here after a while was
    not sent (the broker was down, or the process died after its commit): ``outbox_drain``
    sends it again. A task may so be sent twice, never lost; every task is safe to run twice.
    """

    task = models.CharField(_("task"), max_length=200)
    args = models.JSONField(_("arguments"), default=list)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    attempts = models.PositiveIntegerField(_("send attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("queued task")
        verbose_name_plural = _("queued tasks")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)}"


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
