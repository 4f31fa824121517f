"""The stock ledger: balances, movements, and the documents that post them.

Design (ARCHITECTURE.md §2):

* ``StockBalance`` is one row per (goods, bin, batch); ``batch`` is null for goods kept without
  batches. Uniqueness holds on every backend through two partial unique constraints (one for rows
  with a batch, one for rows without), which PostgreSQL and SQLite both enforce; a plain unique
  constraint would let several "no batch" rows exist because NULLs are distinct. The bin's
  warehouse is copied onto the row (``warehouse``) when the row is created, so warehouse filters
  and per-warehouse totals do not join through bins; a bin never changes warehouse while it holds
  stock (the ledger refuses postings whose bin disagrees).
* The quantity laws are CHECK constraints: ``0 <= frozen``, ``0 <= reserved``,
  ``frozen + reserved <= on_hand`` (which implies ``on_hand >= 0``, also stated on its own).
  ``available = on_hand - frozen - reserved`` is never stored.
* ``StockMovement`` is append-only. Each row changes exactly one balance by signed deltas of
  ``on_hand``, ``frozen`` and ``reserved``, so ``wms_reconcile`` recomputes every column as the sum
  of the deltas. A bin-to-bin transfer is two rows (out of one balance, into another) sharing the
  document; both carry ``from_bin`` and ``to_bin`` for the ledger screen. Freeze, unfreeze, reserve
  and unreserve are movement kinds too (they move quantity between available and frozen/reserved).
  The first movement of a posting carries the posting's idempotency key (unique), so a double
  submit or a replayed task posts once.
* Only ``inventory.ledger`` writes these two tables (``tests/test_ledger_is_only_writer.py``).
  Documents (sheets, transfers, counts) are written by ``inventory.services.stock`` and posted
  through the ledger.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from inventory.reasons import reason_label
from wms.choices import badges

# --------------------------------------------------------------------------------------------
# Balances and movements
# --------------------------------------------------------------------------------------------


class StockBalanceQuerySet(models.QuerySet):
    def with_available(self) -> StockBalanceQuerySet:
        return self.annotate(available_qty=F("on_hand") - F("frozen") - F("reserved"))

    def nonzero(self) -> StockBalanceQuerySet:
        return self.filter(on_hand__gt=0)


class StockBalance(models.Model):
    """库存: quantities of one goods, in one bin, of one batch (or of no batch)."""

    goods = models.ForeignKey(
        "inventory.Goods",
        on_delete=models.PROTECT,
        related_name="balances",
        verbose_name=_("goods"),
        db_index=False,  # covered by balance_goods_id_idx (goods, id)
    )
    warehouse = models.ForeignKey(
        "warehouses.Warehouse",
        on_delete=models.PROTECT,
        related_name="balances",
        verbose_name=_("warehouse"),
        db_index=False,  # covered by balance_wh_goods_idx
    )
    bin = models.ForeignKey(
        "warehouses.Bin", on_delete=models.PROTECT, related_name="balances", verbose_name=_("bin")
    )
    batch = models.ForeignKey(
        "inventory.Batch",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="balances",
        verbose_name=_("batch"),
    )
    on_hand = models.IntegerField(_("on hand"), default=0)
    frozen = models.IntegerField(_("frozen"), default=0)
    reserved = models.IntegerField(_("reserved"), default=0)

    objects = StockBalanceQuerySet.as_manager()

    class Meta:
        verbose_name = _("stock balance")
        verbose_name_plural = _("stock balances")
        ordering = ["goods_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["goods", "bin", "batch"],
                condition=Q(batch__isnull=False),
                name="balance_goods_bin_batch_unique",
            ),
            models.UniqueConstraint(
                fields=["goods", "bin"],
                condition=Q(batch__isnull=True),
                name="balance_goods_bin_nobatch_unique",
            ),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="balance_on_hand_gte_0"),
            models.CheckConstraint(condition=Q(frozen__gte=0), name="balance_frozen_gte_0"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="balance_reserved_gte_0"),
            models.CheckConstraint(
                condition=Q(on_hand__gte=F("frozen") + F("reserved")),
                name="balance_held_lte_on_hand",
            ),
        ]
        indexes = [
            models.Index(fields=["goods", "id"], name="balance_goods_id_idx"),
            models.Index(fields=["warehouse", "goods"], name="balance_wh_goods_idx"),
            models.Index(
                fields=["goods", "id"], condition=Q(frozen__gt=0), name="balance_frozen_idx"
            ),
        ]
        permissions = [
            ("export_stock", _("Can export stock and ledger lists")),
        ]

    def __str__(self) -> str:
        return f"{self.goods_id}@{self.bin_id}/{self.batch_id or '-'}: {self.on_hand}"

    @property
    def available(self) -> int:
        return self.on_hand - self.frozen - self.reserved


class DocumentType(models.TextChoices):
    """What a movement's ``document_id`` points at. Other apps add their own codes (they are
    stored as text, validated only by length), e.g. ``freeze`` or ``order``."""

    INBOUND = "inbound", _("Inbound sheet")
    OUTBOUND = "outbound", _("Outbound sheet")
    TRANSFER = "transfer", _("Transfer")
    COUNT = "count", _("Stock count")
    FREEZE = "freeze", _("Freeze")
    RESERVATION = "reservation", _("Reservation")
    OTHER = "other", _("Other")


class StockMovement(models.Model):
    """出入库流水: one append-only line of the ledger, changing one balance.

    ``quantity`` is the positive amount moved (for display); the signed ``*_delta`` columns are
    what happened to the balance row, and what ``wms_reconcile`` sums.
    """

    class Kind(models.TextChoices):
        INBOUND_PURCHASE = "in_purchase", _("Inbound: purchase")
        INBOUND_SALES_RETURN = "in_sales_return", _("Inbound: sales return")
        INBOUND_REVERSAL = "in_reversal", _("Inbound reversal")
        OUTBOUND_PURCHASE_RETURN = "out_purchase_return", _("Outbound: purchase return")
        OUTBOUND_ORDER_REISSUE = "out_order_reissue", _("Outbound: order reissue")
        OUTBOUND_ORDER_SHIPMENT = "out_order_shipment", _("Outbound: order shipment")
        OUTBOUND_STORE_REPLENISHMENT = "out_store_replenishment", _("Outbound: store replenishment")
        OUTBOUND_OTHER = "out_other", _("Outbound: other (scrap, sample)")
        OUTBOUND_REVERSAL = "out_reversal", _("Outbound reversal")
        TRANSFER_OUT = "transfer_out", _("Transfer out")
        TRANSFER_IN = "transfer_in", _("Transfer in")
        COUNT_GAIN = "count_gain", _("Count adjustment: gain")
        COUNT_LOSS = "count_loss", _("Count adjustment: loss")
        FREEZE = "freeze", pgettext_lazy("movement kind", "Freeze")
        UNFREEZE = "unfreeze", _("Release (unfreeze)")
        RESERVE = "reserve", _("Reserve")
        UNRESERVE = "unreserve", _("Unreserve")

    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    balance = models.ForeignKey(
        StockBalance,
        on_delete=models.PROTECT,
        related_name="movements",
        verbose_name=_("balance"),
    )
    goods = models.ForeignKey(
        "inventory.Goods",
        on_delete=models.PROTECT,
        related_name="movements",
        verbose_name=_("goods"),
        db_index=False,  # covered by movement_goods_time_idx
    )
    warehouse = models.ForeignKey(
        "warehouses.Warehouse",
        on_delete=models.PROTECT,
        related_name="movements",
        verbose_name=_("warehouse"),
        db_index=False,  # covered by movement_wh_time_idx
    )
    bin = models.ForeignKey(
        "warehouses.Bin",
        on_delete=models.PROTECT,
        related_name="movements",
        verbose_name=_("bin"),
        db_index=False,  # the balance identifies it; bins are never deleted while referenced
    )
    batch = models.ForeignKey(
        "inventory.Batch",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="movements",
        verbose_name=_("batch"),
        db_index=False,
    )
    from_bin = models.ForeignKey(
        "warehouses.Bin",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("from bin"),
        db_index=False,
    )
    to_bin = models.ForeignKey(
        "warehouses.Bin",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("to bin"),
        db_index=False,
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    on_hand_delta = models.IntegerField(_("on hand change"), default=0)
    frozen_delta = models.IntegerField(_("frozen change"), default=0)
    reserved_delta = models.IntegerField(_("reserved change"), default=0)
    document_type = models.CharField(_("document type"), max_length=24)
    document_id = models.BigIntegerField(_("document id"), null=True, blank=True)
    document_ref = models.CharField(_("document"), max_length=40, blank=True)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("operator"),
        db_index=False,  # covered by movement_operator_time_idx
    )
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    idempotency_key = models.CharField(
        _("idempotency key"), max_length=80, null=True, blank=True, unique=True
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="movement_quantity_gt_0"),
        ]
        indexes = [
            models.Index(fields=["created_at", "id"], name="movement_time_idx"),
            models.Index(fields=["goods", "created_at", "id"], name="movement_goods_time_idx"),
            models.Index(fields=["warehouse", "created_at", "id"], name="movement_wh_time_idx"),
            models.Index(
                fields=["operator", "created_at", "id"], name="movement_operator_time_idx"
            ),
            models.Index(fields=["document_type", "document_id"], name="movement_document_idx"),
            models.Index(fields=["document_ref"], name="movement_document_ref_idx"),
        ]
        permissions = [
            ("post_sheet", _("Can post and reverse inbound and outbound sheets")),
            ("transfer_stock", _("Can transfer stock between bins and warehouses")),
            ("adjust_stock", _("Can post stock count adjustments")),
            ("ship_expired", _("Can ship expired batches with an override")),
            ("ship_frozen", _("Can ship frozen stock as scrap or purchase return")),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity} of {self.goods_id} ({self.document_ref})"

    @property
    def reason_display(self) -> str:
        """The reason in the active language: codes shown as labels (``inventory.reasons``)."""
        return reason_label(self.reason)


# --------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------


@badges(draft="warn", posted="ok")
class DocumentStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    POSTED = "posted", _("Posted")


class _Sheet(models.Model):
    """Fields shared by inbound and outbound sheets."""

    status = models.CharField(
        _("status"), max_length=16, choices=DocumentStatus.choices, default=DocumentStatus.DRAFT
    )
    warehouse = models.ForeignKey(
        "warehouses.Warehouse",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("warehouse"),
    )
    reference = models.CharField(
        _("reference"), max_length=100, blank=True, help_text=_("Supplier or order number.")
    )
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("posted by"),
    )
    posted_at = models.DateTimeField(_("posted at"), null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_draft(self) -> bool:
        return self.status == DocumentStatus.DRAFT

    @property
    def is_reversal(self) -> bool:
        return self.reversal_of_id is not None


class InboundSheet(_Sheet):
    """入库单: a purchase receipt or a sales return, draft -> posted. A posted sheet is never
    edited; it is reversed by a new posted sheet whose ``reversal_of`` points at it."""

    PREFIX = "IN"

    class Type(models.TextChoices):
        PURCHASE = "purchase", _("Purchase")
        SALES_RETURN = "sales_return", _("Sales return")

    type = models.CharField(_("type"), max_length=24, choices=Type.choices, default=Type.PURCHASE)
    reversal_of = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversal",
        verbose_name=_("reverses"),
    )
    is_import = models.BooleanField(_("imported"), default=False)

    class Meta:
        verbose_name = _("inbound sheet")
        verbose_name_plural = _("inbound sheets")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["warehouse", "status", "id"], name="inbound_wh_idx"),
            # the home page counts drafts left open (wms/work.py)
            models.Index(
                fields=["created_at"],
                condition=Q(status=DocumentStatus.DRAFT),
                name="inbound_draft_age_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"{self.PREFIX}-{self.pk:06d}" if self.pk else self.PREFIX


class InboundLine(models.Model):
    sheet = models.ForeignKey(
        InboundSheet, on_delete=models.CASCADE, related_name="lines", verbose_name=_("sheet")
    )
    goods = models.ForeignKey(
        "inventory.Goods", on_delete=models.PROTECT, related_name="+", verbose_name=_("goods")
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
        "warehouses.Bin", on_delete=models.PROTECT, related_name="+", verbose_name=_("bin")
    )
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])

    class Meta:
        verbose_name = _("inbound line")
        verbose_name_plural = _("inbound lines")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="inbound_line_quantity_gt_0")
        ]

    def __str__(self) -> str:
        return f"{self.goods_id} x {self.quantity}"


class OutboundSheet(_Sheet):
    """出库单: purchase return, order reissue, order shipment, store replenishment or other
    (scrap, sample), draft -> posted; reversed by a new sheet, never edited once posted.

    ``allow_expired`` with ``expired_reason`` is the explicit override to ship expired batches
    (needs the ``ship_expired`` permission)."""

    PREFIX = "OUT"

    class Type(models.TextChoices):
        PURCHASE_RETURN = "purchase_return", _("Purchase return")
        ORDER_REISSUE = "order_reissue", _("Order reissue")
        ORDER_SHIPMENT = "order_shipment", _("Order shipment")
        STORE_REPLENISHMENT = "store_replenishment", _("Store replenishment")
        OTHER = "other", _("Other (scrap, sample)")

    #: Types that may take stock out of frozen quantities (ARCHITECTURE.md §2).
    FROM_FROZEN_TYPES = (Type.PURCHASE_RETURN, Type.OTHER)

    type = models.CharField(
        _("type"), max_length=24, choices=Type.choices, default=Type.ORDER_SHIPMENT
    )
    reversal_of = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversal",
        verbose_name=_("reverses"),
    )
    allow_expired = models.BooleanField(_("ship expired batches"), default=False)
    expired_reason = models.CharField(_("reason for shipping expired"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("outbound sheet")
        verbose_name_plural = _("outbound sheets")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["warehouse", "status", "id"], name="outbound_wh_idx"),
            # the home page counts drafts left open (wms/work.py)
            models.Index(
                fields=["created_at"],
                condition=Q(status=DocumentStatus.DRAFT),
                name="outbound_draft_age_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"{self.PREFIX}-{self.pk:06d}" if self.pk else self.PREFIX


class OutboundLine(models.Model):
    """A goods to ship. ``batch`` and ``bin`` are optional: when left empty the ledger picks
    first-expiry-first-out across the sheet's warehouse (or within the bin)."""

    sheet = models.ForeignKey(
        OutboundSheet, on_delete=models.CASCADE, related_name="lines", verbose_name=_("sheet")
    )
    goods = models.ForeignKey(
        "inventory.Goods", on_delete=models.PROTECT, related_name="+", verbose_name=_("goods")
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
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    from_frozen = models.BooleanField(_("from frozen stock"), default=False)

    class Meta:
        verbose_name = _("outbound line")
        verbose_name_plural = _("outbound lines")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="outbound_line_quantity_gt_0")
        ]

    def __str__(self) -> str:
        return f"{self.goods_id} x {self.quantity}"


class StockTransfer(models.Model):
    """库存转移. ``kind=bin``: bin to bin inside one warehouse, posted in one step.
    ``kind=warehouse``: shipped from one warehouse (status in transit: the stock has left the
    source bins and is available nowhere), then received at the other, where each line records
    the quantity that arrived; the difference is a recorded discrepancy with a reason."""

    PREFIX = "TR"

    class Kind(models.TextChoices):
        BIN = "bin", _("Bin to bin")
        WAREHOUSE = "warehouse", _("Warehouse to warehouse")

    @badges(draft="warn", in_transit="in-transit", done="ok")
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_TRANSIT = "in_transit", _("In transit")
        DONE = "done", _("Done")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    from_warehouse = models.ForeignKey(
        "warehouses.Warehouse",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("from warehouse"),
    )
    to_warehouse = models.ForeignKey(
        "warehouses.Warehouse",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("to warehouse"),
    )
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    shipped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("shipped by"),
    )
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("received by"),
    )
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)

    class Meta:
        verbose_name = _("stock transfer")
        verbose_name_plural = _("stock transfers")
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "id"], name="transfer_status_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="bin") | Q(from_warehouse=F("to_warehouse")),
                name="transfer_bin_same_warehouse",
            ),
            models.CheckConstraint(
                condition=~Q(kind="warehouse") | ~Q(from_warehouse=F("to_warehouse")),
                name="transfer_warehouse_differs",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"{self.PREFIX}-{self.pk:06d}" if self.pk else self.PREFIX


class StockTransferLine(models.Model):
    """One goods/batch moved. For a warehouse transfer ``to_bin`` and ``received_quantity`` are
    set on receipt; ``quantity - received_quantity`` is the discrepancy, explained in
    ``discrepancy_reason``. While the transfer is in transit the whole ``quantity`` is in
    transit."""

    transfer = models.ForeignKey(
        StockTransfer, on_delete=models.CASCADE, related_name="lines", verbose_name=_("transfer")
    )
    goods = models.ForeignKey(
        "inventory.Goods", on_delete=models.PROTECT, related_name="+", verbose_name=_("goods")
    )
    batch = models.ForeignKey(
        "inventory.Batch",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("batch"),
    )
    from_bin = models.ForeignKey(
        "warehouses.Bin", on_delete=models.PROTECT, related_name="+", verbose_name=_("from bin")
    )
    to_bin = models.ForeignKey(
        "warehouses.Bin",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("to bin"),
    )
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    received_quantity = models.PositiveIntegerField(_("received"), null=True, blank=True)
    discrepancy_reason = models.CharField(_("discrepancy reason"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("transfer line")
        verbose_name_plural = _("transfer lines")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="transfer_line_quantity_gt_0"),
            models.CheckConstraint(
                condition=Q(received_quantity__isnull=True)
                | Q(received_quantity__lte=F("quantity")),
                name="transfer_line_received_lte_shipped",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.goods_id} x {self.quantity}"

    @property
    def discrepancy(self) -> int:
        if self.received_quantity is None:
            return 0
        return self.quantity - self.received_quantity


class StockCount(models.Model):
    """盘点: counted quantities of a warehouse's bins, draft -> posted with a reason. Posting
    writes a count gain or loss movement for each line whose count differs from on hand."""

    PREFIX = "CNT"

    status = models.CharField(
        _("status"), max_length=16, choices=DocumentStatus.choices, default=DocumentStatus.DRAFT
    )
    warehouse = models.ForeignKey(
        "warehouses.Warehouse",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("warehouse"),
    )
    reason = models.CharField(_("reason"), max_length=255)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("posted by"),
    )
    posted_at = models.DateTimeField(_("posted at"), null=True, blank=True)
    #: Blind count: the clerks counting do not see what the ledger expects. Switched only by a
    #: holder of ``change_blind_mode`` (a supervisor), for everyone counting this document.
    is_blind = models.BooleanField(_("blind count"), default=False)

    class Meta:
        verbose_name = _("stock count")
        verbose_name_plural = _("stock counts")
        ordering = ["-id"]
        permissions = [
            ("change_blind_mode", _("Can switch blind counting on or off")),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"{self.PREFIX}-{self.pk:06d}" if self.pk else self.PREFIX

    @property
    def is_draft(self) -> bool:
        return self.status == DocumentStatus.DRAFT


class StockCountLine(models.Model):
    count = models.ForeignKey(
        StockCount, on_delete=models.CASCADE, related_name="lines", verbose_name=_("count")
    )
    goods = models.ForeignKey(
        "inventory.Goods", on_delete=models.PROTECT, related_name="+", verbose_name=_("goods")
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
        "warehouses.Bin", on_delete=models.PROTECT, related_name="+", verbose_name=_("bin")
    )
    counted_quantity = models.PositiveIntegerField(_("counted"))
    #: On hand at the moment of posting (under the row lock); null while a draft.
    expected_quantity = models.PositiveIntegerField(_("on hand before"), null=True, blank=True)

    class Meta:
        verbose_name = _("count line")
        verbose_name_plural = _("count lines")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["count", "goods", "bin", "batch"],
                condition=Q(batch__isnull=False),
                name="count_line_unique",
            ),
            models.UniqueConstraint(
                fields=["count", "goods", "bin"],
                condition=Q(batch__isnull=True),
                name="count_line_nobatch_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.goods_id}@{self.bin_id}: {self.counted_quantity}"

    @property
    def difference(self) -> int | None:
        if self.expected_quantity is None:
            return None
        return self.counted_quantity - self.expected_quantity
