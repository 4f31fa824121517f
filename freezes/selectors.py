"""Reads of the freezes app shared by screens, exports, reports and the stock query hook.

Each selector returns what its template needs with the related rows loaded (a constant number
of queries, whatever the number of rows); views never query the ORM themselves. The screens'
selectors take the acting ``user`` so scoping has one place to live (every role that may view
freezes sees all of them today; the views check the permissions).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import ngettext

from freezes.models import (
    Freeze,
    FreezeEvent,
    FreezeJob,
    FreezeLine,
    FreezeRule,
    QualityInspection,
    Reason,
    ReleaseRequest,
)
from freezes.scope import Scope, balances_in_scope
from inventory import hooks
from inventory.models import DocumentType, StockMovement

#: Default number of days after which a freeze is flagged as held too long.
DEFAULT_AGEING_DAYS = 30
PREVIEW_ROWS = 200

HELD = F("quantity") - F("released") - F("shipped")


def ageing_days_default() -> int:
    return int(getattr(settings, "FREEZES_AGEING_DAYS", DEFAULT_AGEING_DAYS))


# --------------------------------------------------------------------------------------------
# Stock query integration
# --------------------------------------------------------------------------------------------


def frozen_links(balance_ids: list[int], *, user) -> dict[int, str]:
    """The stock query's frozen-stock links (``inventory.hooks.register_frozen_link``): for each
    balance, the page listing the freezes that hold it; none for a user who may not view
    freezes (the stock pages then fetch nothing they would be refused). No query."""
    if user is None or not user.has_perm("freezes.view_freeze"):
        return {}
    base = reverse("freezes:balance-holds")
    return {pk: f"{base}?balance={pk}" for pk in balance_ids}


def frozen_holders(balance_ids: list[int]) -> list[hooks.FrozenHolder]:
    """The ledger's ``frozen_holders`` provider (``inventory.hooks``): the active freezes
    holding units on ``balance_ids``, oldest first, with the units each holds there and the
    page to ask for its release (one query). Used when a posting is refused, to say which
    freezes hold the stock."""
    rows = (
        FreezeLine.objects.held()
        .filter(balance_id__in=sorted(set(balance_ids)), freeze__status=Freeze.Status.ACTIVE)
        .values("freeze_id", "freeze__reason")
        .annotate(units=Sum(HELD), first=Min("freeze__created_at"))
        .order_by("first", "freeze_id")
    )
    reasons = dict(Reason.choices)
    out = []
    for row in rows:
        freeze_id = row["freeze_id"]
        out.append(
            hooks.FrozenHolder(
                freeze_id=freeze_id,
                ref=Freeze(pk=freeze_id).number,
                reason=str(reasons.get(row["freeze__reason"], row["freeze__reason"])),
                quantity=row["units"] or 0,
                url=reverse("freezes:freeze-detail", args=[freeze_id]),
                release_url=reverse("freezes:release-request", args=[freeze_id]),
            )
        )
    return out


def posting_notes(document_refs: list[str]) -> dict[str, list[hooks.PostingNote]]:
    """The ledger's ``posting_notes`` provider: for each document number, the freezes its
    arrivals fed (a rule freezing a sales return on arrival, a sticky freeze catching
    arrivals), as sentences linked to the freeze, with the balances they hold (two queries,
    the first on the events' document index)."""
    events = list(
        FreezeEvent.objects.filter(
            document_ref__in=sorted(set(document_refs)),
            kind__in=[FreezeEvent.Kind.CREATED, FreezeEvent.Kind.LINES_ADDED],
        )
        .exclude(kind=FreezeEvent.Kind.CREATED, rule__isnull=True)
        .select_related("rule")
        .order_by("created_at", "pk")
    )
    if not events:
        return {}
    balances: dict[int, list[int]] = defaultdict(list)
    for freeze_id, balance_id in FreezeLine.objects.filter(
        freeze_id__in=sorted({event.freeze_id for event in events})
    ).values_list("freeze_id", "balance_id"):
        balances[freeze_id].append(balance_id)
    out: dict[str, list[hooks.PostingNote]] = defaultdict(list)
    for event in events:
        number = Freeze(pk=event.freeze_id).number
        if event.rule_id:
            text = ngettext(
                "%(n)s unit frozen on arrival by rule '%(rule)s'",
                "%(n)s units frozen on arrival by rule '%(rule)s'",
                event.quantity,
            ) % {"n": event.quantity, "rule": event.rule.name}
        else:
            text = ngettext(
                "%(n)s unit frozen on arrival by %(freeze)s, which freezes matching arrivals",
                "%(n)s units frozen on arrival by %(freeze)s, which freezes matching arrivals",
                event.quantity,
            ) % {"n": event.quantity, "freeze": number}
        out[event.document_ref].append(
            hooks.PostingNote(
                text=text,
                ref=number,
                url=reverse("freezes:freeze-detail", args=[event.freeze_id]),
                quantity=event.quantity,
                balance_ids=tuple(sorted(balances[event.freeze_id])),
            )
        )
    return dict(out)


def balance_holds(*, user, balance_ids: Iterable[int]) -> dict[int, list[FreezeLine]]:
    """The held lines of active freezes on each balance, oldest freeze first, with the freeze,
    who froze it (or the rule) and the balance's goods, bin and batch (one query)."""
    lines = (
        FreezeLine.objects.held()
        .filter(balance_id__in=sorted(set(balance_ids)), freeze__status=Freeze.Status.ACTIVE)
        .select_related(
            "freeze",
            "freeze__created_by",
            "freeze__rule",
            "balance__goods",
            "balance__bin",
            "balance__batch",
            "warehouse",
        )
        .order_by("balance_id", "freeze__created_at", "freeze_id")
    )
    out: dict[int, list[FreezeLine]] = defaultdict(list)
    for line in lines:
        out[line.balance_id].append(line)
    return dict(out)


@dataclass
class HistoryRow:
    movement: StockMovement
    freeze: Freeze | None


def balance_freeze_history(*, user, balance_id: int, limit: int = 200) -> list[HistoryRow]:
    """Who froze and released the stock of one balance, when and why: the ledger's freeze,
    release and from-frozen movements on it, newest first, with their freezes (two queries)."""
    movements = list(
        StockMovement.objects.filter(balance_id=balance_id)
        .filter(Q(document_type=DocumentType.FREEZE) | ~Q(frozen_delta=0))
        .select_related("operator")
        .order_by("-created_at", "-pk")[:limit]
    )
    freeze_ids = {
        m.document_id for m in movements if m.document_type == DocumentType.FREEZE and m.document_id
    }
    freezes = Freeze.objects.select_related("rule", "created_by").in_bulk(sorted(freeze_ids))
    return [
        HistoryRow(
            movement=m,
            freeze=freezes.get(m.document_id) if m.document_type == DocumentType.FREEZE else None,
        )
        for m in movements
    ]


# --------------------------------------------------------------------------------------------
# Preview of a manual freeze
# --------------------------------------------------------------------------------------------


@dataclass
class Preview:
    rows: list[dict] = field(default_factory=list)
    balances: int = 0
    on_hand: int = 0
    available: int = 0
    to_freeze: int = 0
    shortfall: int = 0
    more_rows: int = 0

    @property
    def matches_nothing(self) -> bool:
        return self.balances == 0


def scope_balance_count(*, user, scope: Scope) -> int:
    """How many balances with stock the scope covers (one COUNT)."""
    return balances_in_scope(scope).count()


def freeze_preview(
    *, user, scope: Scope, quantity: int | None, limit: int = PREVIEW_ROWS
) -> Preview:
    """What a freeze of ``scope`` would hold now: totals over every matching balance, and the
    first ``limit`` rows first-expiry-first-out with the units each would give (three queries).
    The freeze itself re-checks everything under the row locks."""
    qs = balances_in_scope(scope)
    totals = qs.aggregate(
        balances=Count("pk"),
        on_hand=Sum("on_hand"),
        available=Sum(
            Case(
                When(available_qty__gt=0, then=F("available_qty")),
                default=Value(0),
                output_field=IntegerField(),
            )
        ),
    )
    available = totals["available"] or 0
    preview = Preview(
        balances=totals["balances"] or 0,
        on_hand=totals["on_hand"] or 0,
        available=available,
        to_freeze=available if quantity is None else min(quantity, available),
        shortfall=0 if quantity is None else max(quantity - available, 0),
    )
    rows = list(
        qs.select_related("goods", "warehouse", "bin", "batch").order_by(
            F("batch__expiry_date").asc(nulls_last=True), "pk"
        )[:limit]
    )
    remaining = preview.to_freeze
    for row in rows:
        take = min(max(row.available_qty, 0), remaining)
        remaining -= take
        preview.rows.append({"balance": row, "available": row.available_qty, "to_freeze": take})
    preview.more_rows = max(preview.balances - len(rows), 0)
    return preview


# --------------------------------------------------------------------------------------------
# Freezes, lines, timeline
# --------------------------------------------------------------------------------------------


def freeze_list(*, user) -> QuerySet:
    """Freezes newest first, with held units (``held_units``), lines still holding
    (``held_lines``), and the rows their list shows."""
    return (
        Freeze.objects.select_related(
            "created_by",
            "rule",
            "warehouse",
            "goods",
            "batch",
            "bin__warehouse",
            "category",
            "brand",
        )
        .annotate(
            held_units=Sum(
                F("lines__quantity") - F("lines__released") - F("lines__shipped"),
                default=0,
            ),
            held_lines=Count(
                "lines",
                filter=Q(lines__quantity__gt=F("lines__released") + F("lines__shipped")),
            ),
        )
        .order_by("-created_at", "-pk")
    )


def freeze_get(*, user, pk: int) -> Freeze | None:
    return (
        Freeze.objects.select_related(
            "created_by", "rule", "warehouse", "goods", "batch", "bin", "category", "brand"
        )
        .filter(pk=pk)
        .first()
    )


@dataclass
class FreezeDetail:
    freeze: Freeze
    lines: list[FreezeLine]
    events: list[FreezeEvent]
    requests: list[ReleaseRequest]
    inspections: list[QualityInspection]
    held: int
    frozen: int
    released: int
    shipped: int
    pending_request: bool


def freeze_detail(*, user, freeze: Freeze) -> FreezeDetail:
    """Everything the freeze page shows (five queries)."""
    lines = list(
        FreezeLine.objects.filter(freeze=freeze)
        .select_related("balance__goods", "balance__bin", "balance__batch", "warehouse")
        .order_by(F("balance__batch__expiry_date").asc(nulls_last=True), "pk")
    )
    events = list(
        FreezeEvent.objects.filter(freeze=freeze)
        .select_related("actor", "rule", "request", "inspection")
        .order_by("created_at", "pk")
    )
    requests = list(
        ReleaseRequest.objects.filter(freeze=freeze)
        .select_related("requested_by", "decided_by", "line__balance__goods")
        .order_by("-requested_at", "-pk")
    )
    inspections = list(
        QualityInspection.objects.filter(freeze=freeze)
        .select_related("inspector", "batch")
        .order_by("-created_at", "-pk")
    )
    return FreezeDetail(
        freeze=freeze,
        lines=lines,
        events=events,
        requests=requests,
        inspections=inspections,
        held=sum(line.held for line in lines),
        frozen=sum(line.quantity for line in lines),
        released=sum(line.released for line in lines),
        shipped=sum(line.shipped for line in lines),
        pending_request=any(r.is_pending for r in requests),
    )


def frozen_stock_lines(*, user, now: datetime.datetime | None = None) -> QuerySet:
    """Held lines of active freezes, the rows of the frozen-stock list and its export:
    ``held_qty`` and ``age`` annotated, goods, category, brand, warehouse, bin, batch, freeze,
    its author and rule loaded."""
    now = now or timezone.now()
    return (
        FreezeLine.objects.held()
        .filter(freeze__status=Freeze.Status.ACTIVE)
        .select_related(
            "freeze",
            "freeze__created_by",
            "freeze__rule",
            "goods__category",
            "goods__brand",
            "warehouse",
            "balance__bin",
            "balance__batch",
        )
        .annotate(
            held_qty=HELD,
            age=ExpressionWrapper(Value(now) - F("freeze__created_at"), DurationField()),
        )
        .order_by("freeze__created_at", "freeze_id", "pk")
    )


def freeze_job_get(*, user, pk: int) -> FreezeJob | None:
    """A background freeze job with its freeze and author, or None (one query)."""
    return FreezeJob.objects.select_related("freeze", "created_by").filter(pk=pk).first()


def rule_list(*, user) -> list[FreezeRule]:
    """Auto-freeze rules, switched-on first, by name, with warehouse, who switched them on and
    their categories (two queries)."""
    return list(
        FreezeRule.objects.select_related("warehouse", "activated_by")
        .prefetch_related("categories")
        .order_by("-is_active", "name", "pk")
    )


def rule_get(*, user, pk: int) -> FreezeRule | None:
    """One rule with its warehouse, author and who switched it on, or None (one query)."""
    return (
        FreezeRule.objects.select_related("warehouse", "created_by", "activated_by")
        .filter(pk=pk)
        .first()
    )


# --------------------------------------------------------------------------------------------
# Approver queue
# --------------------------------------------------------------------------------------------


@dataclass
class QueueRow:
    request: ReleaseRequest
    held_now: int
    can_decide: bool
    why_not: str


def release_queue(*, user) -> list[QueueRow]:
    """Pending release requests, oldest first, each with what its freeze holds now and whether
    ``user`` may decide it (not their own request, not stock they froze) — three queries."""
    from django.utils.translation import gettext as _

    requests = list(
        ReleaseRequest.objects.filter(
            status=ReleaseRequest.Status.PENDING, freeze__status=Freeze.Status.ACTIVE
        )
        .select_related(
            "freeze",
            "freeze__created_by",
            "freeze__rule",
            "requested_by",
            "line__balance__goods",
            "line__balance__bin",
        )
        .order_by("requested_at", "pk")
    )
    held = _held_by_freeze(r.freeze_id for r in requests)
    rows = []
    for request in requests:
        why_not = ""
        if request.requested_by_id == user.pk:
            why_not = _("your own request")
        elif request.freeze.created_by_id == user.pk:
            why_not = _("you froze this stock")
        held_now = held.get(request.freeze_id, 0)
        if request.line_id is not None:
            held_now = request.line.held
        rows.append(QueueRow(request, held_now, not why_not, why_not))
    return rows


def release_request_get(*, user, pk: int) -> ReleaseRequest | None:
    """One release request with its freeze and requester, or None (one query)."""
    return ReleaseRequest.objects.select_related("freeze", "requested_by").filter(pk=pk).first()


def release_recent(*, user, limit: int = 20) -> list[ReleaseRequest]:
    """The latest decided (or withdrawn) release requests, newest decision first (one query)."""
    return list(
        ReleaseRequest.objects.exclude(status=ReleaseRequest.Status.PENDING)
        .select_related("freeze", "requested_by", "decided_by")
        .order_by("-decided_at", "-pk")[:limit]
    )


def _held_by_freeze(freeze_ids: Iterable[int]) -> dict[int, int]:
    ids = sorted(set(freeze_ids))
    if not ids:
        return {}
    return dict(
        FreezeLine.objects.filter(freeze_id__in=ids)
        .values("freeze_id")
        .annotate(units=Sum(HELD))
        .values_list("freeze_id", "units")
    )


def pending_request_count() -> int:
    return ReleaseRequest.objects.filter(
        status=ReleaseRequest.Status.PENDING, freeze__status=Freeze.Status.ACTIVE
    ).count()


# --------------------------------------------------------------------------------------------
# Dashboard
# --------------------------------------------------------------------------------------------


@dataclass
class Bar:
    """One bar of a server-rendered SVG chart: ``y`` and ``width`` in the chart's units."""

    label: str
    units: int
    lines: int
    percent: float
    key: str = ""
    y: int = 0
    width: int = 0

    ROW = 24
    WIDTH = 170

    @property
    def value_x(self) -> int:
        return 136 + self.width


def chart_height(bars: list[Bar]) -> int:
    return max(len(bars), 1) * Bar.ROW


@dataclass
class Dashboard:
    ageing_days: int
    active_freezes: int
    units: int
    balances: int
    pending_requests: int
    ageing_freezes: int
    by_warehouse: list[Bar]
    by_reason: list[Bar]
    by_category: list[Bar]
    by_age: list[Bar]
    oldest: list[Freeze]

    @property
    def height_warehouse(self) -> int:
        return chart_height(self.by_warehouse)

    @property
    def height_reason(self) -> int:
        return chart_height(self.by_reason)

    @property
    def height_category(self) -> int:
        return chart_height(self.by_category)

    @property
    def height_age(self) -> int:
        return chart_height(self.by_age)


AGE_BUCKETS = ((7, "0-7"), (30, "8-30"), (90, "31-90"), (None, "90+"))


def dashboard(
    *, user, ageing_days: int, now: datetime.datetime | None = None, top: int = 10
) -> Dashboard:
    """Totals and distribution of frozen stock (by warehouse, reason, category, age in days)
    and the freezes held longer than ``ageing_days``, oldest first. Aggregates in SQL: a fixed
    number of queries whatever the stock size."""
    from django.utils.translation import gettext as _

    now = now or timezone.now()
    held = FreezeLine.objects.held().filter(freeze__status=Freeze.Status.ACTIVE)
    totals = held.aggregate(units=Sum(HELD), balances=Count("balance_id", distinct=True))
    units = totals["units"] or 0

    def bars(rows, label_of, key_of=lambda row: "") -> list[Bar]:
        rows = list(rows)
        largest = max((row["units"] for row in rows), default=0) or 1
        return [
            Bar(
                label=label_of(row),
                units=row["units"],
                lines=row["lines"],
                percent=round(row["units"] * 100 / largest, 1),
                key=str(key_of(row)),
                y=index * Bar.ROW,
                width=max(round(row["units"] * Bar.WIDTH / largest), 1 if row["units"] else 0),
            )
            for index, row in enumerate(rows)
        ]

    by_warehouse = bars(
        held.values("warehouse_id", "warehouse__code", "warehouse__name")
        .annotate(units=Sum(HELD), lines=Count("pk"))
        .order_by("-units", "warehouse__code")[:top],
        lambda row: f"{row['warehouse__code']} · {row['warehouse__name']}",
        lambda row: row["warehouse_id"],
    )
    reason_labels = dict(Reason.choices)
    by_reason = bars(
        held.values("freeze__reason")
        .annotate(units=Sum(HELD), lines=Count("pk"))
        .order_by("-units", "freeze__reason"),
        lambda row: str(reason_labels.get(row["freeze__reason"], row["freeze__reason"])),
        lambda row: row["freeze__reason"],
    )
    by_category = bars(
        held.values("goods__category_id", "goods__category__name")
        .annotate(units=Sum(HELD), lines=Count("pk"))
        .order_by("-units", "goods__category__name")[:top],
        lambda row: row["goods__category__name"] or _("No category"),
        lambda row: row["goods__category_id"] or "",
    )
    age_rows = []
    start = 0
    for limit, label in AGE_BUCKETS:
        condition = Q(freeze__created_at__lte=now - datetime.timedelta(days=start))
        if limit is not None:
            condition &= Q(freeze__created_at__gt=now - datetime.timedelta(days=limit + 1))
        age_rows.append((label, condition))
        start = (limit or 0) + 1
    age_totals = held.aggregate(
        **{
            f"u{i}": Sum(HELD, filter=condition, default=0)
            for i, (_label, condition) in enumerate(age_rows)
        },
        **{
            f"l{i}": Count("pk", filter=condition) for i, (_label, condition) in enumerate(age_rows)
        },
    )
    by_age = bars(
        [
            {"label": label, "units": age_totals[f"u{i}"], "lines": age_totals[f"l{i}"]}
            for i, (label, _condition) in enumerate(age_rows)
        ],
        lambda row: _("%(days)s days") % {"days": row["label"]},
        lambda row: row["label"],
    )
    cutoff = now - datetime.timedelta(days=ageing_days)
    ageing = freeze_list(user=user).filter(status=Freeze.Status.ACTIVE, created_at__lt=cutoff)
    ageing = ageing.filter(held_units__gt=0)
    return Dashboard(
        ageing_days=ageing_days,
        active_freezes=Freeze.objects.active().count(),
        units=units,
        balances=totals["balances"] or 0,
        pending_requests=pending_request_count(),
        ageing_freezes=ageing.count(),
        by_warehouse=by_warehouse,
        by_reason=by_reason,
        by_category=by_category,
        by_age=by_age,
        oldest=list(ageing.order_by("created_at", "pk")[:20]),
    )
