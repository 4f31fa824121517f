"""Freezes (冻结): stock held back from shipping, why, by whom, and how it is released.

Design (ARCHITECTURE.md §2-§3):

* A ``Freeze`` is the document: a reason code, a note, the scope it was made from (goods, batch,
  bin, warehouse, category with its sub-categories, brand, inbound and production date ranges),
  "all of it" or a set quantity, optionally sticky ("also freeze matching stock that arrives while
  active") and an automatic release (on QC pass, or at a time). Freezes made by an auto-freeze
  rule point at the rule; manual ones at the user who made them.
* A ``FreezeLine`` is what one freeze holds on one balance. The quantities themselves live on the
  balance (``StockBalance.frozen``, written only by ``inventory.ledger``); a line records how many
  units this freeze froze there, how many were released and how many left as scrap or purchase
  return. Several freezes may hold units on the same balance; each is released on its own.
  **Lines are written only by a transaction that holds the row lock of their balance** (inside a
  ledger posting, or after ``inventory.locks.lock_balances``): that is what keeps
  ``sum(held of the lines on a balance) <= balance.frozen`` true under concurrency.
* ``FreezeEvent`` is the append-only timeline (a database trigger refuses UPDATE and DELETE on
  PostgreSQL; the admin shows it read-only). Codes, not translated text, are stored.
* ``FreezeRule`` is an auto-freeze rule (data a warehouse manager edits); ``ReleaseRequest`` is
  a manual release waiting for an approver; ``QualityInspection`` is a QC record.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wms.choices import badges


@badges(
    qc_hold="warn",
    near_expiry="warn",
    damaged="danger",
    customer_complaint="danger",
    after_sales_return="frozen",
    presale_reserve="frozen",
)
class Reason(models.TextChoices):
    """Why stock is frozen (the reason code of a freeze or rule)."""

    QC_HOLD = "qc_hold", _("QC hold")
    AFTER_SALES_RETURN = "after_sales_return", _("After-sales return")
    PRESALE_RESERVE = "presale_reserve", _("Presale reserve")
    DAMAGED = "damaged", _("Damaged")
    NEAR_EXPIRY = "near_expiry", _("Near expiry")
    CUSTOMER_COMPLAINT = "customer_complaint", _("Customer complaint")
    OTHER = "other", _("Other")


# --------------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------------


class ReleaseMode(models.TextChoices):
    MANUAL = "manual", _("Manual release (approved request)")
    ON_QC_PASS = "on_qc_pass", _("Automatically when QC passes")
    AT_TIME = "at_time", _("Automatically at a set time")


class FreezeRule(models.Model):
    """自动冻结规则: an auto-freeze rule. Receipt rules act inside the receiving transaction;
    the near-expiry rule runs daily. A rule is created switched off and is switched on after a
    dry run."""

    class Kind(models.TextChoices):
        SALES_RETURN = "sales_return", _("Freeze sales returns on receipt")
        CATEGORY_ARRIVAL = "category_arrival", _("Freeze arrivals of chosen categories until QC")
        NEAR_EXPIRY = "near_expiry", _("Freeze batches near expiry (daily)")

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    reason = models.CharField(_("reason"), max_length=32, choices=Reason.choices)
    categories = models.ManyToManyField(
        "inventory.Category",
        blank=True,
        related_name="+",
        verbose_name=_("categories"),
        help_text=_("Sub-categories are included. Leave empty for every category."),
    )
    warehouse = models.ForeignKey(
        "warehouses.Warehouse",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("warehouse"),
        help_text=_("Leave empty for every warehouse."),
    )
    days_to_expiry = models.PositiveIntegerField(
        _("days before expiry"),
        null=True,
        blank=True,
        help_text=_("Near-expiry rules: freeze batches expiring within this many days."),
    )
    release_mode = models.CharField(
        _("release"), max_length=16, choices=ReleaseMode.choices, default=ReleaseMode.MANUAL
    )
    release_at = models.DateTimeField(_("release at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    is_active = models.BooleanField(_("switched on"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("switched on by"),
    )
    activated_at = models.DateTimeField(_("switched on at"), null=True, blank=True)

    class Meta:
        verbose_name = _("freeze rule")
        verbose_name_plural = _("freeze rules")
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["kind", "is_active"], name="freezerule_kind_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="near_expiry") | Q(days_to_expiry__isnull=False),
                name="freezerule_near_expiry_days",
            ),
            models.CheckConstraint(
                condition=~Q(release_mode="at_time") | Q(release_at__isnull=False),
                name="freezerule_release_at_set",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def acts_on_receipt(self) -> bool:
        return self.kind in (self.Kind.SALES_RETURN, self.Kind.CATEGORY_ARRIVAL)


# --------------------------------------------------------------------------------------------
# Freezes and their lines
# --------------------------------------------------------------------------------------------


class FreezeQuerySet(models.QuerySet):
    def active(self) -> FreezeQuerySet:
        return self.filter(status=Freeze.Status.ACTIVE)

    def catching(self) -> FreezeQuerySet:
        """Sticky freezes that still freeze matching arrivals."""
        return self.filter(status=Freeze.Status.ACTIVE, is_sticky=True, sticky_ended_at=None)


class Freeze(models.Model):
    """冻结单: one freeze, made by a user or a rule, holding stock on one or more balances."""

    PREFIX = "FRZ"

    @badges(active="frozen", closed="off")
    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("freeze status", "Active")
        CLOSED = "closed", _("Closed")

    reason = models.CharField(_("reason"), max_length=32, choices=Reason.choices)
    note = models.TextField(_("note"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    # --- scope: what the freeze was made from (every field optional, combined with AND) ---
    warehouse = models.ForeignKey(
        "warehouses.Warehouse",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("warehouse"),
    )
    goods = models.ForeignKey(
        "inventory.Goods",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("goods"),
    )
    batch = models.ForeignKey(
        "inventory.Batch",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("batch"),
    )
    bin = models.ForeignKey(
        "warehouses.Bin",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("bin"),
    )
    category = models.ForeignKey(
        "inventory.Category",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("category (with sub-categories)"),
    )
    brand = models.ForeignKey(
        "inventory.Brand",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("brand"),
    )
    inbound_from = models.DateField(_("inbound from"), null=True, blank=True)
    inbound_to = models.DateField(_("inbound to"), null=True, blank=True)
    produced_from = models.DateField(_("produced from"), null=True, blank=True)
    produced_to = models.DateField(_("produced to"), null=True, blank=True)
    #: None: everything available in the scope; else this many units, first-expiry-first-out.
    requested_quantity = models.PositiveIntegerField(_("quantity asked"), null=True, blank=True)
    # --- behaviour ---
    is_sticky = models.BooleanField(
        _("also freeze matching arrivals"),
        default=False,
        help_text=_("Also freeze matching stock that arrives while this freeze is active."),
    )
    #: When a sticky freeze stopped catching arrivals (released, or switched off).
    sticky_ended_at = models.DateTimeField(_("stopped catching arrivals at"), null=True, blank=True)
    release_on_qc_pass = models.BooleanField(_("release when QC passes"), default=False)
    release_at = models.DateTimeField(_("release automatically at"), null=True, blank=True)
    # --- origin ---
    rule = models.ForeignKey(
        FreezeRule,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="freezes",
        verbose_name=_("rule"),
    )
    source_ref = models.CharField(_("source document"), max_length=40, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("frozen by"),
    )
    created_at = models.DateTimeField(_("frozen at"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    idempotency_key = models.CharField(
        _("idempotency key"), max_length=80, null=True, blank=True, unique=True
    )

    objects = FreezeQuerySet.as_manager()

    class Meta:
        verbose_name = _("freeze")
        verbose_name_plural = _("freezes")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="freeze_status_time_idx"),
            models.Index(fields=["rule", "status"], name="freeze_rule_idx"),
            models.Index(
                fields=["release_at"],
                condition=Q(status="active", release_at__isnull=False),
                name="freeze_release_due_idx",
            ),
            models.Index(
                fields=["id"],
                condition=Q(status="active", is_sticky=True, sticky_ended_at__isnull=True),
                name="freeze_catching_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(requested_quantity__isnull=True) | Q(requested_quantity__gt=0),
                name="freeze_requested_quantity_gt_0",
            ),
            models.CheckConstraint(
                condition=Q(status="active") | Q(closed_at__isnull=False),
                name="freeze_closed_has_time",
            ),
        ]
        permissions = [
            ("request_release", _("Can request the release of frozen stock")),
            ("approve_release", _("Can approve or reject release requests")),
            ("ship_frozen", _("Can scrap or return frozen stock to the supplier")),
            ("export_freezes", _("Can export frozen stock")),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"{self.PREFIX}-{self.pk:06d}" if self.pk else self.PREFIX

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def is_catching(self) -> bool:
        return self.is_active and self.is_sticky and self.sticky_ended_at is None

    def scope_items(self) -> list[tuple[str, object]]:
        """(label, value) of each scope field that is set (related rows must be loaded)."""
        items: list[tuple[str, object]] = []
        for name in ("warehouse", "goods", "batch", "bin", "category", "brand"):
            if getattr(self, f"{name}_id") is not None:
                items.append((self._meta.get_field(name).verbose_name, getattr(self, name)))
        for name in ("inbound_from", "inbound_to", "produced_from", "produced_to"):
            value = getattr(self, name)
            if value is not None:
                items.append((self._meta.get_field(name).verbose_name, value))
        return items


class FreezeLineQuerySet(models.QuerySet):
    def held(self) -> FreezeLineQuerySet:
        """Lines still holding units."""
        return self.filter(quantity__gt=F("released") + F("shipped"))

    def with_held(self) -> FreezeLineQuerySet:
        return self.annotate(held_qty=F("quantity") - F("released") - F("shipped"))


class FreezeLine(models.Model):
    """What one freeze holds on one balance: ``quantity`` units frozen in total, of which
    ``released`` went back to available and ``shipped`` left as scrap or purchase return."""

    freeze = models.ForeignKey(
        Freeze, on_delete=models.PROTECT, related_name="lines", verbose_name=_("freeze")
    )
    balance = models.ForeignKey(
        "inventory.StockBalance",
        on_delete=models.PROTECT,
        related_name="freeze_lines",
        verbose_name=_("balance"),
    )
    # Copied from the balance (which never changes goods or warehouse) for the report filters.
    goods = models.ForeignKey(
        "inventory.Goods",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("goods"),
        db_index=False,
    )
    warehouse = models.ForeignKey(
        "warehouses.Warehouse",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("warehouse"),
        db_index=False,
    )
    quantity = models.PositiveIntegerField(_("frozen"))
    released = models.PositiveIntegerField(_("released"), default=0)
    shipped = models.PositiveIntegerField(_("scrapped or returned"), default=0)
    created_at = models.DateTimeField(_("frozen at"), default=timezone.now)

    objects = FreezeLineQuerySet.as_manager()

    class Meta:
        verbose_name = _("freeze line")
        verbose_name_plural = _("freeze lines")
        ordering = ["freeze_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["freeze", "balance"], name="freezeline_unique"),
            models.CheckConstraint(
                condition=Q(quantity__gte=F("released") + F("shipped")),
                name="freezeline_held_gte_0",
            ),
        ]
        indexes = [
            models.Index(
                fields=["balance", "freeze"],
                condition=Q(quantity__gt=F("released") + F("shipped")),
                name="freezeline_held_idx",
            ),
            models.Index(fields=["warehouse", "goods"], name="freezeline_wh_goods_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.freeze_id}@{self.balance_id}: {self.held}"

    @property
    def held(self) -> int:
        return self.quantity - self.released - self.shipped


# --------------------------------------------------------------------------------------------
# Release requests and quality inspections
# --------------------------------------------------------------------------------------------


class ReleaseRequest(models.Model):
    """解冻申请: a manual release of all or part of a freeze, waiting for an approver who holds
    ``freezes.approve_release`` and is neither the requester nor the one who froze the stock."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        CANCELLED = "cancelled", _("Cancelled")

    freeze = models.ForeignKey(
        Freeze, on_delete=models.PROTECT, related_name="release_requests", verbose_name=_("freeze")
    )
    line = models.ForeignKey(
        FreezeLine,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("only this line"),
    )
    #: None: everything the freeze (or the line) holds when approved.
    quantity = models.PositiveIntegerField(_("quantity"), null=True, blank=True)
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    released_quantity = models.PositiveIntegerField(_("released"), default=0)
    #: The submit's key: the same request sent twice is asked once.
    idempotency_key = models.CharField(
        _("idempotency key"), max_length=80, null=True, blank=True, unique=True
    )

    class Meta:
        verbose_name = _("release request")
        verbose_name_plural = _("release requests")
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(fields=["status", "requested_at"], name="releaserequest_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__isnull=True) | Q(quantity__gt=0),
                name="releaserequest_quantity_gt_0",
            ),
        ]

    def __str__(self) -> str:
        return f"REL-{self.pk:06d}" if self.pk else "REL"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING


class QualityInspection(models.Model):
    """质检: a QC result against a freeze or a batch. A pass (or the passed part of a partial
    result) releases the stock of freezes set to release on QC pass."""

    class Result(models.TextChoices):
        PASS = "pass", _("Pass")
        FAIL = "fail", _("Fail")
        PARTIAL = "partial", _("Partial")

    freeze = models.ForeignKey(
        Freeze,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="inspections",
        verbose_name=_("freeze"),
    )
    batch = models.ForeignKey(
        "inventory.Batch",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("batch"),
    )
    result = models.CharField(_("result"), max_length=16, choices=Result.choices)
    passed_quantity = models.PositiveIntegerField(_("passed"), default=0)
    failed_quantity = models.PositiveIntegerField(_("failed"), default=0)
    note = models.TextField(_("note"), blank=True)
    released_quantity = models.PositiveIntegerField(_("released automatically"), default=0)
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("inspector"),
    )
    created_at = models.DateTimeField(_("inspected at"), default=timezone.now)
    #: The submit's key: the same QC result sent twice is recorded (and releases) once.
    idempotency_key = models.CharField(
        _("idempotency key"), max_length=80, null=True, blank=True, unique=True
    )

    class Meta:
        verbose_name = _("quality inspection")
        verbose_name_plural = _("quality inspections")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(freeze__isnull=False) | Q(batch__isnull=False),
                name="inspection_has_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"QC-{self.pk:06d}" if self.pk else "QC"

    @property
    def suggests_disposal(self) -> bool:
        """A failed (or partly failed) result: scrap the stock or return it to the supplier."""
        return self.result == self.Result.FAIL or self.failed_quantity > 0


# --------------------------------------------------------------------------------------------
# The timeline
# --------------------------------------------------------------------------------------------


class FreezeEvent(models.Model):
    """One append-only step of a freeze: who (a user, or a rule, or the system), when, what,
    how many units, why."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Frozen")
        LINES_ADDED = "lines_added", _("Arrivals frozen (sticky)")
        UPDATED = "updated", _("Changed")
        STICKY_ENDED = "sticky_ended", _("Stopped freezing arrivals")
        STICKY_RESUMED = "sticky_resumed", _("Freezes arrivals again")
        RELEASE_REQUESTED = "release_requested", _("Release requested")
        RELEASE_APPROVED = "release_approved", _("Release approved")
        RELEASE_REJECTED = "release_rejected", _("Release rejected")
        RELEASE_WITHDRAWN = "release_withdrawn", _("Release request withdrawn")
        RELEASED = "released", _("Released")
        RELEASED_AT_TIME = "released_at_time", _("Released automatically at its time")
        RELEASED_ON_QC = "released_on_qc", _("Released automatically on QC pass")
        RELEASED_OUTSIDE = "released_outside", _("Released by another document")
        SCRAPPED = "scrapped", _("Scrapped")
        RETURNED = "returned", _("Returned to supplier")
        QC_RESULT = "qc_result", _("QC result")
        CLOSED = "closed", _("Closed")
        BACK_FROZEN = "back_frozen", _("Back from a reversed document, frozen again")
        REOPENED = "reopened", _("Reopened")

    freeze = models.ForeignKey(
        Freeze, on_delete=models.PROTECT, related_name="events", verbose_name=_("freeze")
    )
    kind = models.CharField(_("step"), max_length=24, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("operator"),
    )
    rule = models.ForeignKey(
        FreezeRule,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("rule"),
    )
    quantity = models.IntegerField(_("units"), default=0)
    reason = models.CharField(_("reason"), max_length=32, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    document_ref = models.CharField(_("document"), max_length=40, blank=True)
    request = models.ForeignKey(
        ReleaseRequest,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("release request"),
    )
    inspection = models.ForeignKey(
        QualityInspection,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("quality inspection"),
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("freeze event")
        verbose_name_plural = _("freeze events")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["freeze", "created_at", "id"], name="freezeevent_freeze_idx"),
            models.Index(fields=["actor", "created_at"], name="freezeevent_actor_idx"),
            models.Index(
                fields=["document_ref"],
                condition=~Q(document_ref=""),
                name="freezeevent_document_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.freeze_id} {self.kind} {self.quantity}"

    @property
    def is_release(self) -> bool:
        return self.kind in RELEASE_EVENT_KINDS

    def comment_display(self) -> str:
        """The comment in the reader's language. Steps written by the system store codes (the
        changed fields of ``UPDATED``, the result of ``QC_RESULT``, the reversed document of
        ``BACK_FROZEN``), never translated text; people's own words are shown as written."""
        comment = self.comment
        if not comment:
            return ""
        if self.kind == self.Kind.BACK_FROZEN:
            return _("Reversal of %(doc)s") % {"doc": comment}
        if self.kind == self.Kind.UPDATED:
            names = []
            for code in comment.split(", "):
                try:
                    names.append(str(Freeze._meta.get_field(code).verbose_name))
                except FieldDoesNotExist:
                    names.append(code)
            return ", ".join(names)
        if self.kind == self.Kind.RELEASE_WITHDRAWN and comment == FREEZE_CLOSED:
            return _("Withdrawn by the system: the freeze closed, nothing is left to release.")
        if self.kind == self.Kind.QC_RESULT:
            code, _sep, note = comment.partition(": ")
            if code in QualityInspection.Result.values:
                label = str(QualityInspection.Result(code).label)
                return f"{label}: {note}" if note else label
        return comment


# The comment of the ``release_withdrawn`` step the system writes when it cancels a pending
# request because its freeze closed (``release.requests_cancel_closed``).
FREEZE_CLOSED = "freeze_closed"

RELEASE_EVENT_KINDS = frozenset(
    {
        FreezeEvent.Kind.RELEASED,
        FreezeEvent.Kind.RELEASED_AT_TIME,
        FreezeEvent.Kind.RELEASED_ON_QC,
        FreezeEvent.Kind.RELEASED_OUTSIDE,
    }
)


# --------------------------------------------------------------------------------------------
# Large freezes in the background
# --------------------------------------------------------------------------------------------


class FreezeJob(models.Model):
    """A large manual freeze (thousands of balances) made by a Celery task instead of the web
    request, with its progress for the screen. ``params`` holds what the user confirmed after
    the preview (scope ids, dates as ISO text, reason, note, quantity, options)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        RUNNING = "running", _("Freezing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Refused")

    params = models.JSONField(_("what to freeze"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    total = models.PositiveIntegerField(_("balances"), default=0)
    done = models.PositiveIntegerField(_("balances done"), default=0)
    freeze = models.ForeignKey(
        Freeze,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("freeze"),
    )
    message = models.TextField(_("message"), blank=True)
    token = models.CharField(_("idempotency key"), max_length=80, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # wms.jobs: how many times a worker took the job; when it last said it was alive (NULL while
    # it waits for a worker).
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    heartbeat_at = models.DateTimeField(_("last heard of"), null=True, blank=True)

    class Meta:
        verbose_name = _("freeze job")
        verbose_name_plural = _("freeze jobs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"JOB-{self.pk:06d}" if self.pk else "JOB"

    @property
    def is_running(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def percent(self) -> int:
        if not self.total:
            return 0
        return min(100, int(self.done * 100 / self.total))
