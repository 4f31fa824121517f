"""Store allocation (门店配货): stores and their managers, store sales, allocation policies, grab
windows with their pools, grab requests and the append-only grab decisions, replenishment
orders with their timeline, and store returns.

Quantities of stock are never held here: a grab pool reserves its stock in the ledger when the
window opens (``GrabPoolLine`` says which balances hold it), a replenishment order ships it with
``ledger.issue(from_reserved=True)``, and what nobody claimed is unreserved when the window
closes. Scoping of everything a store manager sees is ``Store.objects.for_user(user)``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wms.choices import choice_value


class StoreQuerySet(models.QuerySet):
    def active(self) -> StoreQuerySet:
        return self.filter(is_active=True)

    def for_user(self, user) -> StoreQuerySet:
        """THE store scoping: every store for a holder of ``allocation.view_all_stores``
        (warehouse managers, administrators), otherwise the stores the user manages, and none
        for an anonymous user. Screens, exports, imports, tasks and the API all start here."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.has_perm("allocation.view_all_stores"):
            return self.all()
        return self.filter(managers=user)

    def for_user_sql(self, user, store_column: str) -> tuple[str, dict]:
        """``for_user`` as an SQL condition on ``store_column`` (a store id expression) with its
        named parameters, for statements written in SQL (the first-come grab): the same rule."""
        if user is None or not user.is_authenticated or not user.is_active:
            return "FALSE", {}
        if user.has_perm("allocation.view_all_stores"):
            return "TRUE", {}
        table = StoreManager._meta.db_table
        return (
            f"EXISTS (SELECT 1 FROM {table} m WHERE m.store_id = {store_column}"
            " AND m.user_id = %(scope_user)s)",
            {"scope_user": user.pk},
        )


class Store(models.Model):
    """门店: a physical shop replenished from the warehouses, run by one or more managers."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=120)
    address = models.CharField(_("address"), max_length=255, blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    contact_name = models.CharField(_("contact"), max_length=120, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    opening_hours = models.CharField(_("opening hours"), max_length=120, blank=True)
    group = models.CharField(
        _("store group"), max_length=60, blank=True, help_text=_("e.g. a region")
    )
    fixed_rank = models.PositiveIntegerField(
        _("fixed rank"),
        null=True,
        blank=True,
        help_text=_("Used by policies ranking stores by fixed rank: 1 comes first."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="StoreManager",
        related_name="managed_stores",
        blank=True,
        verbose_name=_("managers"),
    )

    objects = StoreQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        permissions = [
            ("view_all_stores", _("See every store's data")),
            ("grab", _("Grab replenishment stock for own stores")),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class StoreManager(models.Model):
    """A user running a store (one manager may run several stores)."""

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="manager_links")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="store_links"
    )

    class Meta:
        verbose_name = _("store manager")
        verbose_name_plural = _("store managers")
        constraints = [
            models.UniqueConstraint(fields=["store", "user"], name="allocation_store_manager_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.store.code}: {self.user}"


class StoreSales(models.Model):
    """One store's sales of one goods on one day, and optionally its own on-hand that day."""

    store = models.ForeignKey(
        Store, on_delete=models.CASCADE, related_name="sales", verbose_name=_("store")
    )
    goods = models.ForeignKey(
        "inventory.Goods", on_delete=models.PROTECT, related_name="+", verbose_name=_("goods")
    )
    day = models.DateField(_("day"))
    units_sold = models.PositiveIntegerField(_("units sold"), default=0)
    on_hand = models.PositiveIntegerField(_("store on hand"), null=True, blank=True)

    class Meta:
        verbose_name = _("store sales")
        verbose_name_plural = _("store sales")
        constraints = [
            models.UniqueConstraint(
                fields=["store", "goods", "day"], name="allocation_sales_store_goods_day_uniq"
            )
        ]
        indexes = [models.Index(fields=["goods", "day"], name="allocation_sales_goods_day")]

    def __str__(self) -> str:
        return f"{self.store_id}/{self.goods_id}/{self.day}: {self.units_sold}"


#: The most days a policy looks back or lets an order wait (ten years): more is a typo, and a
#: date that far back is out of range for the figures and the eligibility checks.
MAX_POLICY_DAYS = 3650


class Policy(models.Model):
    """配货规则: how stores are ranked, which may grab, how much each may take, how often."""

    class Priority(models.TextChoices):
        SALES_VOLUME = "sales_volume", _("Recent sales volume (highest first)")
        DAYS_OF_COVER = "days_of_cover", _("Days of cover (fewest first)")
        FIXED_RANK = "fixed_rank", _("Fixed rank")

    class Cycle(models.TextChoices):
        DAILY = "daily", _("Daily")
        WEEKLY = "weekly", _("Weekly on chosen days")
        ON_DEMAND = "on_demand", _("On demand")

    class Share(models.TextChoices):
        STRICT_PRIORITY = "strict_priority", _("Strict priority")
        PRO_RATA = "pro_rata", _("Pro-rata to the requested quantity")
        LOTTERY = "lottery", _("Seeded lottery")

    name = models.CharField(_("name"), max_length=80, unique=True)
    priority = models.CharField(
        _("priority"), max_length=20, choices=Priority.choices, default=Priority.SALES_VOLUME
    )
    lookback_days = models.PositiveIntegerField(
        _("lookback days"),
        default=28,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_POLICY_DAYS)],
    )
    share = models.CharField(
        _("sharing at close"), max_length=20, choices=Share.choices, default=Share.STRICT_PRIORITY
    )
    cycle = models.CharField(_("replenishment cycle"), max_length=12, choices=Cycle.choices)
    weekdays = models.CharField(
        _("weekdays"),
        max_length=20,
        blank=True,
        help_text=_("For a weekly cycle: days as numbers, Monday 0 ... Sunday 6, e.g. 0,3"),
    )
    min_sales = models.PositiveIntegerField(
        _("minimum sales in the lookback"), default=0, help_text=_("0: no minimum")
    )
    max_days_of_cover = models.PositiveIntegerField(
        _("only below days of cover"), null=True, blank=True, help_text=_("empty: no limit")
    )
    max_unreceived_days = models.PositiveIntegerField(
        _("no unreceived order older than (days)"),
        null=True,
        blank=True,
        help_text=_("empty: no limit"),
        validators=[MaxValueValidator(MAX_POLICY_DAYS)],
    )
    cap_per_goods = models.PositiveIntegerField(
        _("cap per store and goods"), null=True, blank=True, help_text=_("empty: no cap")
    )
    cap_per_window = models.PositiveIntegerField(
        _("cap per store and window"), null=True, blank=True, help_text=_("empty: no cap")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("allocation policy")
        verbose_name_plural = _("allocation policies")

    def __str__(self) -> str:
        return self.name

    def weekday_list(self) -> list[int]:
        out = []
        for part in self.weekdays.split(","):
            part = part.strip()
            if part.isdigit() and int(part) <= 6:
                out.append(int(part))
        return sorted(set(out))


class GrabWindow(models.Model):
    """抢单时段: a pool of goods from one warehouse that stores may grab between two times."""

    class Mode(models.TextChoices):
        FIRST_COME = "first_come", _("First come")
        AT_CLOSE = "at_close", _("Priority at close")

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Upcoming")
        OPEN = "open", pgettext_lazy("grab window", "Open")
        CLOSED = "closed", pgettext_lazy("grab window", "Closed")
        CANCELLED = "cancelled", pgettext_lazy("grab window", "Cancelled")

    class Scope(models.TextChoices):
        ALL = "all", _("All stores")
        LIST = "list", _("Chosen stores")
        GROUP = "group", _("A store group")

    name = models.CharField(_("name"), max_length=120)
    warehouse = models.ForeignKey(
        "warehouses.Warehouse",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("source warehouse"),
    )
    policy = models.ForeignKey(
        Policy, on_delete=models.PROTECT, related_name="windows", verbose_name=_("policy")
    )
    mode = models.CharField(_("mode"), max_length=12, choices=Mode.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.SCHEDULED
    )
    opens_at = models.DateTimeField(_("opens at"))
    closes_at = models.DateTimeField(_("closes at"))
    scope = models.CharField(_("eligible stores"), max_length=8, choices=Scope.choices)
    stores = models.ManyToManyField(Store, blank=True, related_name="+", verbose_name=_("stores"))
    store_group = models.CharField(_("store group"), max_length=60, blank=True)
    seed = models.BigIntegerField(_("lottery seed"))
    recurs = models.BooleanField(
        _("repeat with the policy's cycle"), default=False, help_text=_("opens the next one")
    )
    next_window = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="previous"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # the window form's token: the same form sent twice (a double click) makes one window
    client_key = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-opens_at", "-pk"]
        verbose_name = _("grab window")
        verbose_name_plural = _("grab windows")
        permissions = [("manage_windows", _("Open, close and cancel grab windows"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")), name="allocation_window_times"
            ),
            models.UniqueConstraint(
                fields=["client_key"],
                condition=~Q(client_key=""),
                name="allocation_window_client_key_uniq",
            ),
        ]
        indexes = [models.Index(fields=["status", "closes_at"], name="allocation_window_due")]

    def __str__(self) -> str:
        return f"{self.ref} {self.name}"

    @property
    def ref(self) -> str:
        return f"GW{self.pk:06d}" if self.pk else "GW"

    def is_grabbable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.status == self.Status.OPEN and self.opens_at <= now < self.closes_at

    def has_opened(self, now=None) -> bool:
        """Open, or upcoming with its opening time come and its closing time not (the beat
        opens it within the minute; a grab opens it at once): the phone offers the grab."""
        now = now or timezone.now()
        return self.status in (self.Status.OPEN, self.Status.SCHEDULED) and (
            self.opens_at <= now < self.closes_at
        )

    def not_grabbable_reason(self, now=None) -> str:
        """Why the window takes no grab now (cancelled, closed, not open yet), or ""."""
        now = now or timezone.now()
        if self.is_grabbable(now):
            return ""
        if self.status == self.Status.CANCELLED:
            return str(_("This window was cancelled."))
        if self.status == self.Status.CLOSED or now >= self.closes_at:
            return str(_("This window has closed."))
        return str(_("This window is not open yet."))


class GrabPool(models.Model):
    """One goods offered in a window: ``offered`` units (reserved in the ledger from the open),
    ``granted`` so far. In first-come mode ``granted`` is the hot counter every grab moves with
    one conditional UPDATE; ``granted <= offered`` is a database constraint."""

    window = models.ForeignKey(GrabWindow, on_delete=models.CASCADE, related_name="pools")
    goods = models.ForeignKey(
        "inventory.Goods", on_delete=models.PROTECT, related_name="+", verbose_name=_("goods")
    )
    offered = models.PositiveIntegerField(_("offered"), validators=[MinValueValidator(1)])
    granted = models.PositiveIntegerField(_("granted"), default=0)
    # True between the open and the close: the grab's conditional UPDATE requires it, so a grab
    # waiting on the row while the window closes re-checks it and grants nothing after the close.
    is_open = models.BooleanField(default=False)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("grab pool")
        verbose_name_plural = _("grab pools")
        constraints = [
            models.UniqueConstraint(fields=["window", "goods"], name="allocation_pool_goods_uniq"),
            models.CheckConstraint(
                condition=Q(granted__lte=models.F("offered")), name="allocation_pool_not_over"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.window_id}/{self.goods_id}: {self.granted}/{self.offered}"

    @property
    def left(self) -> int:
        return self.offered - self.granted


class GrabPoolLine(models.Model):
    """Which balance holds how much of a pool's reservation (first-expiry-first at the open):
    ``assigned`` of it went to replenishment orders, ``released`` was unreserved at the close."""

    pool = models.ForeignKey(GrabPool, on_delete=models.CASCADE, related_name="lines")
    balance = models.ForeignKey(
        "inventory.StockBalance", on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.PositiveIntegerField(_("reserved"))
    assigned = models.PositiveIntegerField(_("assigned"), default=0)
    released = models.PositiveIntegerField(
        pgettext_lazy("grab pool reservation", "released"), default=0
    )

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    assigned__lte=models.F("quantity") - models.F("released"),
                ),
                name="allocation_pool_line_not_over",
            )
        ]

    def __str__(self) -> str:
        return f"{self.pool_id}/{self.balance_id}: {self.quantity}"


class GrabRequest(models.Model):
    """抢单申请: a store asking for a quantity of one pool's goods."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the close")
        GRANTED = "granted", _("Granted")
        PARTIAL = "partial", _("Partly granted")
        REFUSED = "refused", _("Refused")
        CANCELLED = "cancelled", pgettext_lazy("grab request", "Cancelled")

    ACTIVE = (Status.PENDING, Status.GRANTED, Status.PARTIAL)

    # window and store are looked up through the (window, client key) and (store, window)
    # indexes below: no index of their own (one less index written per grab)
    window = models.ForeignKey(
        GrabWindow, on_delete=models.CASCADE, related_name="requests", db_index=False
    )
    pool = models.ForeignKey(GrabPool, on_delete=models.CASCADE, related_name="requests")
    store = models.ForeignKey(
        Store,
        on_delete=models.PROTECT,
        related_name="grab_requests",
        verbose_name=_("store"),
        db_index=False,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    quantity = models.PositiveIntegerField(_("requested"), validators=[MinValueValidator(1)])
    granted = models.PositiveIntegerField(_("granted"), default=0)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    reason_code = models.CharField(_("reason"), max_length=32, blank=True)
    reason_params = models.JSONField(default=dict, blank=True)
    client_key = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("requested at"), default=timezone.now)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("grab request")
        verbose_name_plural = _("grab requests")
        constraints = [
            models.UniqueConstraint(
                fields=["window", "client_key"], name="allocation_request_client_key_uniq"
            ),
            # two phones of one store: one live request per store and goods in a window
            models.UniqueConstraint(
                fields=["pool", "store"],
                condition=Q(status__in=["pending", "granted", "partial"]),
                name="allocation_request_one_live",
            ),
            models.CheckConstraint(
                condition=Q(granted__lte=models.F("quantity")), name="allocation_request_not_over"
            ),
        ]
        indexes = [models.Index(fields=["store", "window"], name="allocation_request_store")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.store_id} {self.quantity}"

    @property
    def reason(self) -> str:
        from allocation.reasons import reason_text

        return reason_text(self.reason_code, self.reason_params)


class GrabDecision(models.Model):
    """Append-only (a PostgreSQL trigger refuses UPDATE and DELETE): what the automatic review
    decided for a request, by which rule, from which figures."""

    request = models.ForeignKey(GrabRequest, on_delete=models.PROTECT, related_name="decisions")
    rule = models.CharField(_("rule"), max_length=32)
    figures = models.JSONField(_("figures"), default=dict)
    result = models.CharField(_("result"), max_length=12)
    granted = models.PositiveIntegerField(_("granted"), default=0)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("grab decision")
        verbose_name_plural = _("grab decisions")

    def __str__(self) -> str:
        return f"{self.request_id}: {self.rule} -> {self.result}"


class ReplenishmentOrder(models.Model):
    """补货单: a store's grants of one window, holding their reserved stock until shipped."""

    class Status(models.TextChoices):
        CREATED = "created", pgettext_lazy("replenishment order", "Created")
        PICKING = "picking", _("Picking")
        SHIPPED = "shipped", _("Shipped")
        RECEIVED = "received", _("Received")
        CANCELLED = "cancelled", pgettext_lazy("replenishment order", "Cancelled")

    window = models.ForeignKey(GrabWindow, on_delete=models.PROTECT, related_name="orders")
    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="orders", verbose_name=_("store")
    )
    warehouse = models.ForeignKey(
        "warehouses.Warehouse", on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.CREATED
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("replenishment order")
        verbose_name_plural = _("replenishment orders")
        permissions = [
            ("ship_order", _("Pick, ship and cancel replenishment orders")),
            ("receive_order", _("Receive replenishment orders at the store")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["window", "store"], name="allocation_order_uniq")
        ]

    def __str__(self) -> str:
        return self.ref

    @property
    def ref(self) -> str:
        return f"RO{self.pk:06d}" if self.pk else "RO"


class ReplenishmentLine(models.Model):
    """One goods (from one balance: bin and batch) on an order. At the store ``received`` of
    ``quantity`` arrived, ``damaged`` of those damaged; the rest is the shortage."""

    order = models.ForeignKey(ReplenishmentOrder, on_delete=models.CASCADE, related_name="lines")
    goods = models.ForeignKey("inventory.Goods", on_delete=models.PROTECT, related_name="+")
    balance = models.ForeignKey(
        "inventory.StockBalance", on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    received = models.PositiveIntegerField(_("received"), null=True, blank=True)
    damaged = models.PositiveIntegerField(_("damaged"), default=0)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(received__isnull=True) | Q(received__lte=models.F("quantity")),
                name="allocation_line_received_le_quantity",
            ),
            models.CheckConstraint(
                condition=Q(received__isnull=True, damaged=0)
                | Q(damaged__lte=models.F("received")),
                name="allocation_line_damaged_le_received",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.goods_id}: {self.quantity}"

    @property
    def shortage(self) -> int:
        return 0 if self.received is None else self.quantity - self.received


class OrderEvent(models.Model):
    """Append-only timeline of an order: every status change, return filed and received."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Order created")
        PICKING = "picking", _("Picking started")
        SHIPPED = "shipped", _("Shipped")
        RECEIVED = "received", _("Received at the store")
        CANCELLED = "cancelled", _("Order cancelled")
        RETURN_FILED = "return_filed", _("Return filed")
        RETURN_RECEIVED = "return_received", _("Return received at the warehouse")

    order = models.ForeignKey(ReplenishmentOrder, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("event"), max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    note = models.CharField(_("note"), max_length=255, blank=True)
    # What the event says in data, shown in the reader's language (note_display): a receipt's
    # shortages as {"shortages": [[sku, short, damaged], ...]} (every line, not cut at 255).
    details = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("order event")
        verbose_name_plural = _("order events")

    def __str__(self) -> str:
        return f"{self.order_id}: {self.kind}"

    def note_display(self) -> str:
        """The note in the reader's language: a receipt's shortages (``details``) are written
        out before the receiver's own note (older receipts hold them in the receiver's
        language, in the note); a filed return's note is "<return ref>: <reason code>" (older
        ones hold the reason's label in the filer's language), shown with the reason's label;
        people's own words are shown as written."""
        if self.kind == self.Kind.RECEIVED:
            parts = [
                _("%(sku)s short %(short)s, damaged %(damaged)s")
                % {"sku": sku, "short": short, "damaged": damaged}
                for sku, short, damaged in self.details.get("shortages", [])
            ]
            return "; ".join([*parts, self.note] if self.note else parts)
        if self.kind != self.Kind.RETURN_FILED:
            return self.note
        ref, sep, reason = self.note.partition(": ")
        code = choice_value(StoreReturn.Reason, reason)
        return f"{ref}: {StoreReturn.Reason(code).label}" if sep and code else self.note


class StoreReturn(models.Model):
    """门店退货: goods a store sends back against a received order; the warehouse receives it as
    an inbound sales return (so the auto-freeze rules for returns apply)."""

    class Reason(models.TextChoices):
        DAMAGED = "damaged", _("Damaged")
        WRONG_GOODS = "wrong_goods", _("Wrong goods")
        SURPLUS = "surplus", _("Surplus")
        QUALITY = "quality", _("Quality complaint")

    class Status(models.TextChoices):
        FILED = "filed", _("Filed")
        RECEIVED = "received", pgettext_lazy("store return", "Received")

    order = models.ForeignKey(ReplenishmentOrder, on_delete=models.PROTECT, related_name="returns")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="returns")
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    note = models.CharField(_("note"), max_length=255, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.FILED
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    filed_at = models.DateTimeField(_("filed at"), default=timezone.now)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    inbound_sheet = models.ForeignKey(
        "inventory.InboundSheet", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # the return form's token: the same form sent twice (a double tap) files one return
    client_key = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-filed_at", "-pk"]
        verbose_name = _("store return")
        verbose_name_plural = _("store returns")
        permissions = [("receive_return", _("Receive store returns at the warehouse"))]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "client_key"],
                condition=~Q(client_key=""),
                name="allocation_return_client_key_uniq",
            )
        ]

    def __str__(self) -> str:
        return self.ref

    @property
    def ref(self) -> str:
        return f"SR{self.pk:06d}" if self.pk else "SR"


class StoreReturnLine(models.Model):
    store_return = models.ForeignKey(StoreReturn, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(ReplenishmentLine, on_delete=models.PROTECT, related_name="+")
    goods = models.ForeignKey("inventory.Goods", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.store_return_id}/{self.goods_id}: {self.quantity}"
