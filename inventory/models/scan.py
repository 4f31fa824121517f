"""Scan sessions: what a clerk scanning a document has done so far, kept on the server.

One row per (user, mode, document): the bin the clerk stands at, the mode's own progress
(``state``: units picked per pick stop, goods carried on a move) and the
last code with its time (to catch a scanner bounce). Lines of inbound sheets and counts are not
kept here: each scan adds them to the draft document at once, through the same services as the
forms. The row is locked for each scan, so two scans of one session never interleave.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ScanSession(models.Model):
    class Mode(models.TextChoices):
        RECEIVE = "receive", _("Receive by scan")
        PICK = "pick", _("Pick by scan")
        MOVE = "move", _("Move by scan")
        COUNT = "count", _("Count by scan")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices)
    #: The inbound sheet, outbound sheet or count scanned; 0 for a move (no document until done).
    document_id = models.BigIntegerField(_("document id"), default=0)
    bin = models.ForeignKey(
        "warehouses.Bin",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("bin"),
    )
    state = models.JSONField(_("state"), default=dict, blank=True)
    last_code = models.CharField(_("last code"), max_length=200, blank=True)
    last_scan_at = models.DateTimeField(_("last scan at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("scan session")
        verbose_name_plural = _("scan sessions")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "mode", "document_id"], name="scan_session_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.mode} {self.document_id} ({self.user_id})"
