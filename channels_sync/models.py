"""Shops on platforms, their listings, warehouse bindings, the outbox and the sync log.

Kept general for orders and carriers (issue 12): an outbox row has a ``kind`` and a payload, a
listing knows its platform ids, a binding is warehouse-per-shop with a priority order.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from channels_sync.crypto import EncryptedJSONField, mask


class Platform(models.TextChoices):
    SHOPIFY = "shopify", _("Shopify")
    EBAY = "ebay", _("eBay")
    KOGAN = "kogan", _("Kogan")
    REST = "rest", _("Own shop (REST)")


class Shop(models.Model):
    """A shop on a platform (店铺). Credentials are encrypted at rest (``WMS_FIELD_KEY``)."""

    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    name = models.CharField(_("name"), max_length=200, unique=True)
    domain = models.CharField(
        _("domain or site id"),
        max_length=255,
        help_text=_("e.g. example.myshopify.com, an eBay marketplace id, a Kogan seller id"),
    )
    api_base_url = models.URLField(
        _("API address"),
        blank=True,
        help_text=_("Leave empty to use the platform's own address (set for a test platform)."),
    )
    location_ref = models.CharField(
        _("platform location"),
        max_length=200,
        blank=True,
        help_text=_(
            "Shopify location id the stock is set at; empty: the shop's first location, "
            "looked up at the first push and kept here."
        ),
    )
    credentials = EncryptedJSONField(_("credentials"), blank=True, default="")
    is_stock_push_enabled = models.BooleanField(_("stock push on"), default=False)
    is_order_pull_enabled = models.BooleanField(_("order pull on"), default=False)
    share_percent = models.PositiveSmallIntegerField(
        _("share of available stock (%)"),
        default=100,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    safety_stock = models.PositiveIntegerField(_("safety stock"), default=0)
    requires_review = models.BooleanField(
        _("binding changes need a second person"),
        default=False,
        help_text=_("An operator requests, a supervisor (another user) confirms."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    last_product_sync_at = models.DateTimeField(_("last product sync"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("shop")
        verbose_name_plural = _("shops")
        permissions = [
            ("push_stock", _("Can push stock to platforms")),
            ("sync_products", _("Can sync products and match listings")),
            ("request_binding_change", _("Can request binding changes")),
            ("confirm_binding", _("Can confirm binding changes (supervisor)")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(share_percent__gte=0, share_percent__lte=100),
                name="channels_shop_share_0_100",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_platform_display()})"

    @property
    def credentials_masked(self) -> dict[str, str]:
        return {key: mask(value) for key, value in dict(self.credentials).items()}


class Listing(models.Model):
    """A product/variant a shop sells on its platform (商品), linked to goods when matched."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        DRAFT = "draft", _("Draft")
        ARCHIVED = "archived", _("Archived")
        DELETED = "deleted", _("Deleted on the platform")

    class MatchedBy(models.TextChoices):
        NONE = "", _("Not matched")
        SKU = "sku", _("SKU")
        BARCODE = "barcode", _("Barcode")
        MANUAL = "manual", _("By hand")

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="listings")
    product_ref = models.CharField(_("platform product id"), max_length=200)
    variant_ref = models.CharField(_("platform variant id"), max_length=200)
    item_ref = models.CharField(
        _("platform stock id"),
        max_length=200,
        blank=True,
        help_text=_("Shopify inventory item, eBay offer, Kogan/own-shop SKU."),
    )
    sku = models.CharField(_("SKU"), max_length=200, blank=True, db_index=True)
    barcode = models.CharField(_("barcode"), max_length=200, blank=True, db_index=True)
    title = models.CharField(_("title"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    goods = models.ForeignKey(
        "inventory.Goods",
        verbose_name=_("goods"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="listings",
    )
    matched_by = models.CharField(
        _("matched by"), max_length=16, choices=MatchedBy.choices, blank=True, default=""
    )
    platform_updated_at = models.DateTimeField(_("updated on the platform"), null=True, blank=True)
    last_pushed_quantity = models.IntegerField(_("last pushed quantity"), null=True, blank=True)
    last_pushed_at = models.DateTimeField(_("last pushed"), null=True, blank=True)
    synced_at = models.DateTimeField(_("synced"), auto_now=True)

    class Meta:
        ordering = ["shop", "sku", "pk"]
        verbose_name = _("listing")
        verbose_name_plural = _("listings")
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "variant_ref"], name="channels_listing_unique_variant"
            )
        ]
        indexes = [models.Index(fields=["shop", "goods"], name="channels_listing_shop_goods")]

    def __str__(self) -> str:
        return f"{self.sku or self.variant_ref} · {self.title}"


class Binding(models.Model):
    """A warehouse feeding a shop; ``priority`` orders them (1 first) for order routing."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="bindings")
    warehouse = models.ForeignKey(
        "warehouses.Warehouse", on_delete=models.PROTECT, related_name="shop_bindings"
    )
    priority = models.PositiveSmallIntegerField(_("priority"), default=1)

    class Meta:
        ordering = ["shop", "priority", "warehouse_id"]
        verbose_name = _("warehouse binding")
        verbose_name_plural = _("warehouse bindings")
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "warehouse"], name="channels_binding_unique_warehouse"
            )
        ]

    def __str__(self) -> str:
        return f"{self.shop_id} ← {self.warehouse_id} (#{self.priority})"


class BindingException(models.Model):
    """Per goods (or per listing) at one bound warehouse: unbound, or a fixed allotment."""

    class Mode(models.TextChoices):
        UNBOUND = "unbound", _("Unbound")
        ALLOTMENT = "allotment", _("Fixed allotment")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="binding_exceptions")
    warehouse = models.ForeignKey(
        "warehouses.Warehouse", on_delete=models.PROTECT, related_name="+"
    )
    goods = models.ForeignKey(
        "inventory.Goods", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    listing = models.ForeignKey(
        Listing, on_delete=models.CASCADE, null=True, blank=True, related_name="binding_exceptions"
    )
    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices)
    allotment = models.PositiveIntegerField(_("allotment"), null=True, blank=True)

    class Meta:
        verbose_name = _("binding exception")
        verbose_name_plural = _("binding exceptions")
        constraints = [
            models.CheckConstraint(
                condition=(Q(goods__isnull=False) & Q(listing__isnull=True))
                | (Q(goods__isnull=True) & Q(listing__isnull=False)),
                name="channels_bindexc_goods_xor_listing",
            ),
            models.CheckConstraint(
                condition=Q(mode="unbound", allotment__isnull=True)
                | Q(mode="allotment", allotment__isnull=False),
                name="channels_bindexc_allotment_iff_mode",
            ),
            models.UniqueConstraint(
                fields=["shop", "warehouse", "goods"],
                condition=Q(goods__isnull=False),
                name="channels_bindexc_unique_goods",
            ),
            models.UniqueConstraint(
                fields=["shop", "warehouse", "listing"],
                condition=Q(listing__isnull=False),
                name="channels_bindexc_unique_listing",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_mode_display()} @ {self.warehouse_id}"


class BindingChange(models.Model):
    """Append-only audit of binding changes (双人复核, 回滚): the shop's bindings before and
    after as snapshots, who requested and who confirmed. A change waiting for review is PENDING
    (its ``after`` is the proposal); confirming applies it only if the bindings still equal its
    ``before``. Status moves PENDING -> APPLIED/REJECTED once (compare-and-set), nothing else is
    ever updated; the trigger refuses DELETE and any UPDATE of the snapshots."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for review")
        APPLIED = "applied", _("Applied")
        REJECTED = "rejected", _("Rejected")

    class Action(models.TextChoices):
        BIND = "bind", _("Bind warehouse")
        UNBIND = "unbind", _("Unbind warehouse")
        REORDER = "reorder", _("Change priority")
        EXCEPTION = "exception", _("Goods exception")
        BULK = "bulk", _("Bulk change")
        ROLLBACK = "rollback", _("Rollback")

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="binding_changes")
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    summary = models.CharField(_("summary"), max_length=500)
    before = models.JSONField(_("before"))
    after = models.JSONField(_("after"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    rollback_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("binding change")
        verbose_name_plural = _("binding changes")

    def __str__(self) -> str:
        return f"#{self.pk} {self.summary}"


class OutboxItem(models.Model):
    """Work that must reach a platform, written in the business transaction, drained by tasks.

    ``STOCK`` rows: goods ``goods`` changed for ``shop`` — at most one PENDING row per (kind,
    shop, goods) (partial unique index; the ledger hook upserts). A push claims rows (status
    SENDING, ``idempotency_key`` stored before the call) and deletes them once the platform
    confirmed; a failed push puts them back to PENDING with ``attempts`` and ``last_error``.
    """

    class Kind(models.TextChoices):
        STOCK = "stock", _("Stock push")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.STOCK)
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="outbox")
    goods = models.ForeignKey(
        "inventory.Goods", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    is_manual = models.BooleanField(default=False)
    idempotency_key = models.CharField(max_length=64, blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("outbox item")
        verbose_name_plural = _("outbox items")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "shop", "goods"],
                condition=Q(status="pending"),
                name="channels_outbox_one_pending",
            )
        ]
        indexes = [models.Index(fields=["status", "shop"], name="channels_outbox_status_shop")]

    def __str__(self) -> str:
        return f"{self.kind} {self.shop_id}/{self.goods_id} {self.status}"


class SyncRecord(models.Model):
    """One push of one listing's quantity (同步记录), append-only: what we sent and why."""

    class Trigger(models.TextChoices):
        AUTO = "auto", _("Automatic")
        MANUAL = "manual", _("Manual")
        NIGHTLY = "nightly", _("Nightly full push")

    class Status(models.TextChoices):
        SUCCESS = "success", _("Success")
        FAILURE = "failure", _("Failure")

    # No index of its own: (shop, status, -created_at) below serves lookups by shop.
    shop = models.ForeignKey(
        Shop, on_delete=models.PROTECT, related_name="sync_records", db_index=False
    )
    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="sync_records")
    goods = models.ForeignKey("inventory.Goods", on_delete=models.PROTECT, related_name="+")
    quantity = models.IntegerField(_("quantity sent"))
    previous_quantity = models.IntegerField(_("platform's previous quantity"), null=True)
    inputs = models.JSONField(_("inputs"))
    trigger = models.CharField(_("trigger"), max_length=16, choices=Trigger.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    message = models.TextField(_("message"), blank=True)
    idempotency_key = models.CharField(max_length=64, blank=True)
    user = models.ForeignKey(  # few rows have one; never searched by user
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("sync record")
        verbose_name_plural = _("sync records")
        indexes = [
            models.Index(fields=["shop", "status", "-created_at"], name="channels_sync_shop_st")
        ]

    def __str__(self) -> str:
        return f"{self.listing_id} = {self.quantity} ({self.status})"


class ProductSyncRun(models.Model):
    """One product sync of a shop (full or incremental), with its progress for the screen."""

    class Mode(models.TextChoices):
        FULL = "full", _("Full sync")
        INCREMENTAL = "incremental", _("Incremental sync")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="product_syncs")
    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    since = models.DateTimeField(null=True, blank=True)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    deleted = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Liveness (wms.jobs): takes by a worker, and when a worker last took it or wrote progress
    # (NULL while it waits for a worker).
    attempts = models.PositiveIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"{self.shop_id} {self.mode} {self.status}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(100 * self.done / self.total) if self.total else 0


class ListingLinkEvent(models.Model):
    """Append-only audit of manual link/unlink of a listing to goods."""

    class Action(models.TextChoices):
        LINK = "link", _("Linked")
        UNLINK = "unlink", _("Unlinked")
        AUTO = "auto", _("Matched automatically")

    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="link_events")
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    goods_before = models.ForeignKey(
        "inventory.Goods", on_delete=models.PROTECT, null=True, related_name="+"
    )
    goods_after = models.ForeignKey(
        "inventory.Goods", on_delete=models.PROTECT, null=True, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"{self.action} {self.listing_id}"


# --------------------------------------------------------------------------------------------
# Orders, routing, carriers and fulfilment (issue 12)
# --------------------------------------------------------------------------------------------


class ShopOrderSettings(models.Model):
    """Per shop: how often orders are pulled, what to do when no warehouse can fill an order,
    and the cursor of the last successful pull (the next pull starts there minus an overlap)."""

    class WhenShort(models.TextChoices):
        SHORT = "short", _("Mark the order short")
        SPLIT = "split", _("Split across warehouses")

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="order_settings")
    pull_interval_minutes = models.PositiveIntegerField(
        _("pull every (minutes)"), default=15, validators=[MinValueValidator(1)]
    )
    when_short = models.CharField(
        _("when no warehouse can fill an order"),
        max_length=8,
        choices=WhenShort.choices,
        default=WhenShort.SHORT,
    )
    last_pull_at = models.DateTimeField(_("last successful pull"), null=True, blank=True)
    last_pull_started_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("order settings")
        verbose_name_plural = _("order settings")

    def __str__(self) -> str:
        return f"{self.shop_id}: every {self.pull_interval_minutes} min"


class Order(models.Model):
    """An order pulled from a platform (订单). One row per (shop, platform order id); a version
    older than ``platform_updated_at`` never overwrites it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RESERVED = "reserved", _("Reserved")
        SHORT = "short", _("Short")
        CONFIRMED = "confirmed", _("Confirmed")
        SHIPPED = "shipped", _("Shipped")
        CANCELLED = "cancelled", _("Cancelled")

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="orders")
    platform_order_id = models.CharField(_("platform order id"), max_length=200)
    name = models.CharField(_("order number"), max_length=100, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    platform_updated_at = models.DateTimeField(_("updated on the platform"))
    placed_at = models.DateTimeField(_("placed"), null=True, blank=True)
    customer_name = models.CharField(_("customer"), max_length=200, blank=True)
    customer_email = models.CharField(_("email"), max_length=254, blank=True)
    ship_name = models.CharField(_("ship to"), max_length=200, blank=True)
    address1 = models.CharField(_("address"), max_length=255, blank=True)
    address2 = models.CharField(_("address line 2"), max_length=255, blank=True)
    city = models.CharField(_("city / suburb"), max_length=120, blank=True)
    state = models.CharField(_("state / province"), max_length=60, blank=True)
    postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2, default=0)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    weight = models.DecimalField(_("weight (kg)"), max_digits=12, decimal_places=3, default=0)
    warehouse = models.ForeignKey(
        "warehouses.Warehouse",
        verbose_name=_("warehouse"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    is_split = models.BooleanField(_("split across warehouses"), default=False)
    route_version = models.PositiveIntegerField(default=0)
    routed_at = models.DateTimeField(_("routed"), null=True, blank=True)
    filled_complete = models.BooleanField(_("filled complete from one warehouse"), default=False)
    was_short = models.BooleanField(_("was short"), default=False)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped"), null=True, blank=True)
    cancelled_on_platform = models.BooleanField(_("cancelled on the platform"), default=False)
    message = models.TextField(_("message"), blank=True)
    fingerprint = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(_("pulled at"), auto_now_add=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        permissions = [("confirm_order", _("Can confirm and ship orders"))]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "platform_order_id"], name="channels_order_unique_platform_id"
            )
        ]
        indexes = [
            models.Index(fields=["status", "shop"], name="channels_order_status_shop"),
            models.Index(fields=["routed_at"], name="channels_order_routed_at"),
        ]

    def __str__(self) -> str:
        return self.name or self.platform_order_id


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    line_ref = models.CharField(_("platform line id"), max_length=200)
    listing = models.ForeignKey(
        Listing, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    goods = models.ForeignKey(
        "inventory.Goods",
        verbose_name=_("goods"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    sku = models.CharField(_("SKU"), max_length=200, blank=True)
    title = models.CharField(_("title"), max_length=500, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"))
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2, default=0)

    class Meta:
        ordering = ["order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_ref"], name="channels_orderline_unique")
        ]

    def __str__(self) -> str:
        return f"{self.sku} x {self.quantity}"


class OrderAllocation(models.Model):
    """Units of an order held on one balance (the reservation the ledger posted)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="allocations")
    goods = models.ForeignKey("inventory.Goods", on_delete=models.PROTECT, related_name="+")
    warehouse = models.ForeignKey(
        "warehouses.Warehouse", on_delete=models.PROTECT, related_name="+"
    )
    balance = models.ForeignKey(
        "inventory.StockBalance", on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["order", "pk"]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.goods_id} x {self.quantity} @ {self.balance_id}"


class OrderEvent(models.Model):
    """Append-only history of an order: pulled, routed, short, confirmed, booked, shipped,
    reported to the platform (each fulfilment call is one event with the platform's answer)."""

    class Kind(models.TextChoices):
        PULLED = "pulled", _("Pulled")
        UPDATED = "updated", _("Updated on the platform")
        ROUTED = "routed", _("Reserved")
        SHORT = "short", _("Short")
        RELEASED = "released", _("Reservation released")
        CANCELLED = "cancelled", _("Cancelled")
        CONFIRMED = "confirmed", _("Confirmed")
        BOOKED = "booked", _("Shipment booked")
        BOOKING_FAILED = "booking_failed", _("Booking failed")
        SHIPPED = "shipped", _("Shipped")
        REPORTED = "reported", _("Fulfilment reported")
        REPORT_FAILED = "report_failed", _("Fulfilment report failed")
        TRACKING = "tracking", _("Tracking update")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("what"), max_length=20, choices=Kind.choices)
    message = models.TextField(_("message"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"{self.order_id} {self.kind}"


class OrderPull(models.Model):
    """One order pull of a shop (a run of the 15-minute pull, a manual pull, or a webhook)."""

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Scheduled")
        MANUAL = "manual", _("Manual")
        WEBHOOK = "webhook", _("Webhook")

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="order_pulls")
    trigger = models.CharField(_("trigger"), max_length=16, choices=Trigger.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.RUNNING
    )
    since = models.DateTimeField(_("since"), null=True, blank=True)
    pages = models.PositiveIntegerField(_("pages"), default=0)
    new = models.PositiveIntegerField(_("new"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    message = models.TextField(_("message"), blank=True)
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"{self.shop_id} {self.trigger} {self.status}"


class Carrier(models.Model):
    """A carrier account (承运商): Australia Post, 4PX, Aramex (Fastway). Credentials are
    encrypted at rest like shops'."""

    class Kind(models.TextChoices):
        AUSPOST = "auspost", _("Australia Post")
        FOURPX = "fourpx", _("4PX")
        ARAMEX = "aramex", _("Aramex (Fastway)")

    kind = models.CharField(_("carrier"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200, unique=True)
    api_base_url = models.URLField(_("API address"), blank=True)
    credentials = EncryptedJSONField(_("credentials"), blank=True, default="")
    default_service = models.CharField(_("default service"), max_length=64, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("carrier")
        verbose_name_plural = _("carriers")

    def __str__(self) -> str:
        return self.name


class LogisticsRule(models.Model):
    """Which carrier and service ships an order (物流规则): the first active rule by priority
    whose every filled condition matches."""

    class Method(models.TextChoices):
        CARRIER = "carrier", _("Carrier")
        LOCAL_PICKUP = "local_pickup", _("Local pickup")
        LOCAL_DELIVERY = "local_delivery", _("Local delivery")

    name = models.CharField(_("name"), max_length=200)
    priority = models.PositiveIntegerField(_("priority"), default=100)
    shop = models.ForeignKey(
        Shop, verbose_name=_("shop"), on_delete=models.CASCADE, null=True, blank=True
    )
    country = models.CharField(_("country"), max_length=2, blank=True)
    state = models.CharField(_("state / province"), max_length=60, blank=True)
    postcode_from = models.CharField(_("postcode from"), max_length=20, blank=True)
    postcode_to = models.CharField(_("postcode to"), max_length=20, blank=True)
    weight_min = models.DecimalField(
        _("weight from (kg)"), max_digits=12, decimal_places=3, null=True, blank=True
    )
    weight_max = models.DecimalField(
        _("weight up to (kg)"), max_digits=12, decimal_places=3, null=True, blank=True
    )
    value_min = models.DecimalField(
        _("order value from"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    value_max = models.DecimalField(
        _("order value up to"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    category = models.ForeignKey(
        "inventory.Category",
        verbose_name=_("goods category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    method = models.CharField(
        _("ship by"), max_length=16, choices=Method.choices, default=Method.CARRIER
    )
    carrier = models.ForeignKey(
        Carrier, verbose_name=_("carrier"), on_delete=models.PROTECT, null=True, blank=True
    )
    service = models.CharField(_("service"), max_length=64, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["priority", "pk"]
        verbose_name = _("logistics rule")
        verbose_name_plural = _("logistics rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(method="carrier", carrier__isnull=False) | ~Q(method="carrier"),
                name="channels_rule_carrier_needs_carrier",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.priority} {self.name}"


class Shipment(models.Model):
    """The booking of one order with a carrier. ``idempotency_key`` is stored before the call,
    so a retry after a crash is the same booking (never a second one)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to book")
        BOOKING = "booking", _("Booking")
        BOOKED = "booked", _("Booked")
        FAILED = "failed", _("Booking failed")
        DELIVERED = "delivered", _("Delivered")

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="shipment")
    method = models.CharField(_("ship by"), max_length=16, choices=LogisticsRule.Method.choices)
    carrier = models.ForeignKey(
        Carrier, on_delete=models.PROTECT, null=True, blank=True, related_name="shipments"
    )
    service = models.CharField(_("service"), max_length=64, blank=True)
    rule = models.ForeignKey(
        LogisticsRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    idempotency_key = models.CharField(max_length=64, unique=True)
    carrier_ref = models.CharField(_("carrier reference"), max_length=200, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=200, blank=True)
    label_pdf = models.BinaryField(_("label"), null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(_("error"), blank=True)
    tracking_events = models.JSONField(default=list, blank=True)
    report_status = models.CharField(max_length=16, default="", blank=True)
    report_attempts = models.PositiveIntegerField(default=0)
    report_error = models.TextField(blank=True)
    booked_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")

    def __str__(self) -> str:
        return f"{self.order_id} {self.tracking_number or self.status}"
