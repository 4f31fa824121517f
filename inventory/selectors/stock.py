"""Reads of the stock ledger shared by screens, exports, hooks and other apps.

Every list selector is keyset-paginated (no OFFSET, no COUNT(*) over the table) and costs a
constant number of queries per page, with the related rows the templates need selected up front.
A page is ``limit + 1`` rows read in index order from the cursor (the last row's sort key), so
page 10,000 costs what page 1 costs.

Selectors take the user so scoping lives in one place: every role allowed to see stock sees all
warehouses today (ARCHITECTURE.md §4 scopes stores, not warehouses); views check permissions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, F, IntegerField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils.html import format_html
from django.utils.translation import gettext as _

from inventory import hooks
from inventory.models import (
    Batch,
    ComboComponent,
    DocumentStatus,
    Goods,
    InboundSheet,
    OutboundSheet,
    StockBalance,
    StockCount,
    StockMovement,
    StockTransfer,
    StockTransferLine,
)
from warehouses.models import Bin, Zone
from wms.pagination import KeysetPage, keyset_page
from wms.pagination import encode_cursor as encode_cursor  # cursors built by bench/stock_query

# --------------------------------------------------------------------------------------------
# Hooks for the warehouses app
# --------------------------------------------------------------------------------------------


def bins_holding_stock(bins: list) -> dict[int, str]:
    """Bin deactivation guard: a refusal message for each bin that still holds stock (one
    query). Runs under the deactivation's bin row locks; receipts share-lock their bins, so no
    stock can arrive between this check and the deactivation."""
    ids = [b.pk for b in bins]
    held = dict(
        StockBalance.objects.filter(bin_id__in=ids, on_hand__gt=0)
        .values("bin_id")
        .annotate(units=Sum("on_hand"))
        .values_list("bin_id", "units")
    )
    codes = {b.pk: b.code for b in bins}
    return {
        bin_id: _("Bin %(bin)s still holds %(units)s units of stock; move them first.")
        % {"bin": codes[bin_id], "units": units}
        for bin_id, units in held.items()
    }


def bin_stock_contents(
    bin_ids: list[int], *, user, limit: int = 20
) -> dict[int, dict[str, object]]:
    """Bin lookup provider: per bin, "SKU name (batch)" -> on hand, with frozen units in blue
    linking to the freezes that hold them (whose reason, time and operator the page loads
    lazily), for the stock it holds (one query for the page, plus the frozen-link provider's).
    At most ``limit`` lines per bin, then a "more" line."""
    rows = list(
        StockBalance.objects.filter(bin_id__in=list(bin_ids), on_hand__gt=0)
        .order_by("bin_id", "goods__sku", "batch__batch_no", "pk")
        .values_list(
            "pk", "bin_id", "goods__sku", "goods__name", "batch__batch_no", "on_hand", "frozen"
        )
    )
    links = hooks.frozen_links([row[0] for row in rows if row[6]], user=user)
    out: dict[int, dict[str, object]] = defaultdict(dict)
    extra: dict[int, int] = defaultdict(int)
    for balance_id, bin_id, sku, name, batch_no, on_hand, frozen in rows:
        if len(out[bin_id]) >= limit:
            extra[bin_id] += 1
            continue
        label = f"{sku} {name}" + (f" ({batch_no})" if batch_no else "")
        out[bin_id][label] = _bin_line_value(on_hand, frozen, links.get(balance_id, ""))
    for bin_id, more in extra.items():
        out[bin_id][_("more")] = _("%(n)s more lines") % {"n": more}
    return dict(out)


def bins_holding_goods(text: str, warehouse_id: int | None = None) -> list[int]:
    """Bin lookup search provider (``warehouses.hooks``): ids of the bins holding stock (on hand
    above zero) of goods whose SKU starts with ``text``, whose barcode is ``text`` or whose name
    contains it, any case; within ``warehouse_id`` when given. One query."""
    text = " ".join((text or "").split())
    if not text:
        return []
    goods = Goods.objects.filter(
        Q(sku__istartswith=text) | Q(barcode=text) | Q(name__icontains=text)
    ).values("pk")
    rows = StockBalance.objects.filter(on_hand__gt=0, goods_id__in=goods)
    if warehouse_id is not None:
        rows = rows.filter(warehouse_id=warehouse_id)
    return list(rows.order_by().values_list("bin_id", flat=True).distinct())


def _bin_line_value(on_hand: int, frozen: int, frozen_url: str) -> str:
    if not frozen:
        return str(on_hand)
    frozen_text = _("(frozen %(n)s)") % {"n": frozen}
    if not frozen_url:
        return format_html('{} <span class="frozen">{}</span>', on_hand, frozen_text)
    return format_html(
        '{} <a class="frozen" href="{}">{}</a>'
        '<span hx-get="{}" hx-trigger="revealed" hx-swap="outerHTML"></span>',
        on_hand,
        frozen_url,
        frozen_text,
        frozen_url,
    )


# --------------------------------------------------------------------------------------------
# Quantities
# --------------------------------------------------------------------------------------------


def goods_has_stock(goods_id: int) -> bool:
    """True while any balance of the goods holds units (it cannot be deleted then)."""
    return StockBalance.objects.filter(goods_id=goods_id, on_hand__gt=0).exists()


def goods_with_stock(goods_ids: list[int]) -> set[int]:
    """The ids among ``goods_ids`` that hold units in some balance (one query)."""
    return set(
        StockBalance.objects.filter(goods_id__in=list(goods_ids), on_hand__gt=0)
        .values_list("goods_id", flat=True)
        .distinct()
    )


def _combo_recipes(combo_ids: list[int]) -> dict[int, list[tuple[int, int, bool]]]:
    """``{combo_id: [(component_id, quantity, component is a combo), ...]}`` for these ids (one
    query; an id that has no components maps to an empty list)."""
    recipes: dict[int, list[tuple[int, int, bool]]] = {pk: [] for pk in combo_ids}
    for combo_id, component_id, quantity, is_combo in ComboComponent.objects.filter(
        combo_id__in=list(combo_ids)
    ).values_list("combo_id", "component_id", "quantity", "component__is_combo"):
        recipes[combo_id].append((component_id, quantity, is_combo))
    return recipes


def _combo_units(
    combo_ids: set[int], recipes: dict[int, list[tuple[int, int, bool]]]
) -> dict[int, dict[int, int]]:
    """``{combo_id: {goods_id: units in one combo}}`` over the goods inside each combo that are
    not combos themselves, through combos inside combos (quantities multiplied down the levels,
    a goods met by two paths counted on both); ``{}`` for a combo with no components, or with a
    combo inside that has none or contains itself. ``recipes`` holds the first level; each
    deeper level is read with one query."""
    units: dict[int, dict[int, int]] = {pk: defaultdict(int) for pk in combo_ids}
    pending: dict[int, dict[int, int]] = {pk: {pk: 1} for pk in combo_ids}
    broken: set[int] = set()
    depth = 0
    while pending:
        unread = sorted({inner for inners in pending.values() for inner in inners} - recipes.keys())
        if unread:
            recipes.update(_combo_recipes(unread))
        depth += 1
        deeper: dict[int, dict[int, int]] = {}
        for combo_id, inners in pending.items():
            # deeper than the number of combos met: some combo contains itself
            if depth > len(recipes) or not all(recipes[inner] for inner in inners):
                broken.add(combo_id)
                continue
            below: dict[int, int] = defaultdict(int)
            for inner, count in inners.items():
                for component_id, quantity, is_combo in recipes[inner]:
                    (below if is_combo else units[combo_id])[component_id] += count * quantity
            if below:
                deeper[combo_id] = below
        pending = deeper
    return {pk: {} if pk in broken else dict(units[pk]) for pk in combo_ids}


def goods_available(goods_ids: list[int], *, warehouse_id: int | None = None) -> dict[int, int]:
    """Available units per goods (in one warehouse, or in all), combos included: a combo's
    available is the minimum over the goods inside it (through combos inside combos, down to
    goods that are not combos) of floor(available / units in one combo), and 0 when it (or a
    combo inside it) has no components. Three queries whatever the number of goods, plus one
    per level of combos inside combos."""
    goods_ids = list(goods_ids)
    recipes = _combo_recipes(goods_ids)
    combo_ids = set(
        Goods.objects.filter(pk__in=goods_ids, is_combo=True).values_list("pk", flat=True)
    )
    units = _combo_units(combo_ids, {pk: recipes[pk] for pk in combo_ids})
    wanted = set(goods_ids) | {c for per_combo in units.values() for c in per_combo}
    balances = StockBalance.objects.filter(goods_id__in=sorted(wanted))
    if warehouse_id is not None:
        balances = balances.filter(warehouse_id=warehouse_id)
    plain = dict(
        balances.values("goods_id")
        .annotate(units=Sum(F("on_hand") - F("frozen") - F("reserved")))
        .values_list("goods_id", "units")
    )
    out: dict[int, int] = {}
    for goods_id in goods_ids:
        if goods_id in combo_ids:
            per_combo = units[goods_id]
            out[goods_id] = (
                min(max(plain.get(c, 0), 0) // q for c, q in per_combo.items()) if per_combo else 0
            )
        else:
            out[goods_id] = max(plain.get(goods_id, 0), 0)
    return out


def balance_totals(*, goods_id: int, warehouse_id: int | None = None) -> dict[str, int]:
    """On hand, frozen, reserved and available of one goods (in one warehouse or all)."""
    qs = StockBalance.objects.filter(goods_id=goods_id)
    if warehouse_id is not None:
        qs = qs.filter(warehouse_id=warehouse_id)
    totals = qs.aggregate(on_hand=Sum("on_hand"), frozen=Sum("frozen"), reserved=Sum("reserved"))
    totals = {k: v or 0 for k, v in totals.items()}
    totals["available"] = totals["on_hand"] - totals["frozen"] - totals["reserved"]
    return totals


# --------------------------------------------------------------------------------------------
# Reconciliation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Drift:
    """A balance row that disagrees with the sum of its movements."""

    balance_id: int
    goods_sku: str
    bin_code: str
    batch_no: str
    stored: tuple[int, int, int]
    from_movements: tuple[int, int, int]

    @property
    def difference(self) -> tuple[int, int, int]:
        return tuple(s - m for s, m in zip(self.stored, self.from_movements, strict=True))


def balance_drift() -> list[Drift]:
    """Every balance whose on hand, frozen or reserved differs from the sum of its movements'
    deltas, plus movements whose goods/bin/batch/warehouse disagree with their balance (shown
    with stored ``(-1, -1, -1)``). Set-based: two statements whatever the table sizes."""
    balance = connection.ops.quote_name(StockBalance._meta.db_table)
    movement = connection.ops.quote_name(StockMovement._meta.db_table)
    goods = connection.ops.quote_name(Goods._meta.db_table)
    bins = connection.ops.quote_name(Bin._meta.db_table)
    batch = connection.ops.quote_name(Batch._meta.db_table)
    sums = f"""
        SELECT b.id, g.sku, bn.code, COALESCE(bt.batch_no, ''),
               b.on_hand, b.frozen, b.reserved,
               COALESCE(m.on_hand, 0), COALESCE(m.frozen, 0), COALESCE(m.reserved, 0)
        FROM {balance} b
        JOIN {goods} g ON g.id = b.goods_id
        JOIN {bins} bn ON bn.id = b.bin_id
        LEFT JOIN {batch} bt ON bt.id = b.batch_id
        LEFT JOIN (
            SELECT balance_id, SUM(on_hand_delta) AS on_hand, SUM(frozen_delta) AS frozen,
                   SUM(reserved_delta) AS reserved
            FROM {movement} GROUP BY balance_id
        ) m ON m.balance_id = b.id
        WHERE b.on_hand <> COALESCE(m.on_hand, 0) OR b.frozen <> COALESCE(m.frozen, 0)
           OR b.reserved <> COALESCE(m.reserved, 0)
        ORDER BY b.id
    """
    mismatched = f"""
        SELECT b.id, g.sku, bn.code, COALESCE(bt.batch_no, ''), COUNT(*)
        FROM {movement} m
        JOIN {balance} b ON b.id = m.balance_id
        JOIN {goods} g ON g.id = b.goods_id
        JOIN {bins} bn ON bn.id = b.bin_id
        LEFT JOIN {batch} bt ON bt.id = b.batch_id
        WHERE m.goods_id <> b.goods_id OR m.bin_id <> b.bin_id OR m.warehouse_id <> b.warehouse_id
           OR COALESCE(m.batch_id, 0) <> COALESCE(b.batch_id, 0)
        GROUP BY b.id, g.sku, bn.code, bt.batch_no
        ORDER BY b.id
    """
    out: list[Drift] = []
    with connection.cursor() as cursor:
        cursor.execute(sums)
        for pk, sku, code, batch_no, *numbers in cursor.fetchall():
            out.append(Drift(pk, sku, code, batch_no, tuple(numbers[:3]), tuple(numbers[3:])))
        cursor.execute(mismatched)
        for pk, sku, code, batch_no, count in cursor.fetchall():
            out.append(Drift(pk, sku, code, batch_no, (-1, -1, -1), (count, 0, 0)))
    return out


# --------------------------------------------------------------------------------------------
# Stock query (库存查询)
# --------------------------------------------------------------------------------------------

STOCK_PAGE = 50


@dataclass
class StockRow:
    """One line of the stock query, whatever the grouping; ``balance_id`` and the bin fields
    are set in the per-bin grouping only."""

    goods_id: int
    sku: str
    name: str
    unit: str
    on_hand: int
    frozen: int
    reserved: int
    balance_id: int | None = None
    warehouse_code: str = ""
    bin_id: int | None = None
    bin_code: str = ""
    zone_code: str = ""
    zone_type: str = ""
    batch_no: str = ""
    expiry_date: object = None
    rows: int = 1
    in_transit: int = 0
    frozen_url: str = ""

    @property
    def available(self) -> int:
        return self.on_hand - self.frozen - self.reserved


def stock_base(*, user) -> QuerySet[StockBalance]:
    """The balances a user may see (all of them for every stock role today)."""
    return StockBalance.objects.all()


def stock_page(
    *,
    user,
    queryset: QuerySet[StockBalance],
    group: str = "bin",
    cursor: str | None = None,
    limit: int = STOCK_PAGE,
    frozen_groups_only: bool = False,
) -> KeysetPage:
    """One page of the stock query over the (filtered) balance ``queryset``.

    ``group``: ``bin`` (one row per balance: goods, warehouse, bin, batch), ``goods``,
    ``warehouse`` (goods x warehouse) or ``batch`` (goods x batch) with summed quantities.
    Ordered by goods SKU then the group's second key; keyset-paginated on that pair. Queries per
    page: one for the rows, plus one for in-transit units in the ``goods`` grouping (and whatever
    the registered frozen-link provider costs, once per page). ``frozen_groups_only`` keeps the
    groups whose summed frozen units are positive."""
    if group == "goods":
        page = _grouped_page(queryset, cursor, limit, (), frozen_groups_only)
        transit = in_transit_totals([row.goods_id for row in page.rows])
        for row in page.rows:
            row.in_transit = transit.get(row.goods_id, 0)
        return page
    if group == "warehouse":
        return _grouped_page(
            queryset, cursor, limit, ("warehouse_id", "warehouse__code"), frozen_groups_only
        )
    if group == "batch":
        return _grouped_page(
            queryset,
            cursor,
            limit,
            ("batch_key", "batch__batch_no", "batch__expiry_date"),
            frozen_groups_only,
        )
    return _balance_page(queryset, cursor, limit, user)


def _balance_page(queryset: QuerySet, cursor: str | None, limit: int, user) -> KeysetPage:
    """Per-balance rows read as plain values (no model instances: the page is a few hundred
    cells, and building six model objects per row would cost more than the query)."""
    page = keyset_page(
        queryset.values_list(
            "pk",
            "goods_id",
            "goods__sku",
            "goods__name",
            "goods__unit",
            "warehouse__code",
            "bin_id",
            "bin__code",
            "bin__zone__code",
            "bin__zone__type",
            "batch__batch_no",
            "batch__expiry_date",
            "on_hand",
            "frozen",
            "reserved",
        ),
        order=("goods__sku", "pk"),
        cursor=cursor,
        per_page=limit,
        types=(str, int),
        key_of=lambda r: (r[2], r[0]),
    )
    frozen = [r[0] for r in page.rows if r[13]]
    links = hooks.frozen_links(frozen, user=user) if frozen else {}
    zone_types = dict(Zone.Type.choices)
    page.rows = [
        StockRow(
            goods_id=goods_id,
            sku=sku,
            name=name,
            unit=unit,
            on_hand=on_hand,
            frozen=frozen_units,
            reserved=reserved,
            balance_id=pk,
            warehouse_code=warehouse_code,
            bin_id=bin_id,
            bin_code=bin_code,
            zone_code=zone_code,
            zone_type=zone_types.get(zone_type, zone_type),
            batch_no=batch_no or "",
            expiry_date=expiry,
            frozen_url=links.get(pk, ""),
        )
        for (
            pk,
            goods_id,
            sku,
            name,
            unit,
            warehouse_code,
            bin_id,
            bin_code,
            zone_code,
            zone_type,
            batch_no,
            expiry,
            on_hand,
            frozen_units,
            reserved,
        ) in page.rows
    ]
    return page


def _grouped_page(
    queryset: QuerySet,
    cursor: str | None,
    limit: int,
    extra_fields: tuple[str, ...],
    frozen_only: bool,
) -> KeysetPage:
    second = extra_fields[0] if extra_fields else None
    rows = queryset
    if second == "batch_key":
        rows = rows.annotate(batch_key=Coalesce("batch_id", Value(0), output_field=IntegerField()))
    rows = rows.values(
        "goods_id", "goods__sku", "goods__name", "goods__unit", *extra_fields
    ).annotate(
        on_hand_sum=Sum("on_hand"),
        frozen_sum=Sum("frozen"),
        reserved_sum=Sum("reserved"),
        row_count=Count("pk"),
    )
    if frozen_only:
        rows = rows.filter(frozen_sum__gt=0)
    order = ("goods__sku", second) if second else ("goods__sku",)
    page = keyset_page(
        rows,
        order=order,
        cursor=cursor,
        per_page=limit,
        types=(str, int) if second else (str,),
        key_of=lambda r: tuple(r[name] for name in order),
    )
    page.rows = [
        StockRow(
            goods_id=r["goods_id"],
            sku=r["goods__sku"],
            name=r["goods__name"],
            unit=r["goods__unit"],
            on_hand=r["on_hand_sum"] or 0,
            frozen=r["frozen_sum"] or 0,
            reserved=r["reserved_sum"] or 0,
            warehouse_code=r.get("warehouse__code", ""),
            batch_no=r.get("batch__batch_no") or "",
            expiry_date=r.get("batch__expiry_date"),
            rows=r["row_count"],
        )
        for r in page.rows
    ]
    return page


def stock_export_rows(
    *, user, queryset: QuerySet[StockBalance], group: str, frozen_groups_only: bool = False
) -> Iterator[StockRow]:
    """Every row of the stock query (all pages), read page by page with the same keyset."""
    cursor = None
    while True:
        page = stock_page(
            user=user,
            queryset=queryset,
            group=group,
            cursor=cursor,
            limit=2000,
            frozen_groups_only=frozen_groups_only,
        )
        yield from page.rows
        if not page.next_cursor:
            return
        cursor = page.next_cursor


def in_transit_totals(goods_ids: list[int]) -> dict[int, int]:
    """Units in transit per goods: shipped warehouse transfers not yet received (one query)."""
    if not goods_ids:
        return {}
    return dict(
        StockTransferLine.objects.filter(
            transfer__status=StockTransfer.Status.IN_TRANSIT, goods_id__in=list(goods_ids)
        )
        .values("goods_id")
        .annotate(units=Sum("quantity"))
        .values_list("goods_id", "units")
    )


# --------------------------------------------------------------------------------------------
# Ledger (出入库流水)
# --------------------------------------------------------------------------------------------

LEDGER_PAGE = 50


def movement_base(*, user) -> QuerySet[StockMovement]:
    return StockMovement.objects.all()


def movement_page(
    *,
    user,
    queryset: QuerySet[StockMovement],
    cursor: str | None = None,
    limit: int = LEDGER_PAGE,
) -> KeysetPage:
    """Newest movements first (time, then id), keyset-paginated on (time, id); one query per
    page with goods, warehouse, bins, batch and operator selected."""

    return keyset_page(
        queryset.select_related(
            "goods", "warehouse", "bin", "batch", "from_bin", "to_bin", "operator"
        ),
        order=("-created_at", "-pk"),
        cursor=cursor,
        per_page=limit,
    )


def movement_export_rows(*, user, queryset: QuerySet[StockMovement]) -> Iterator[StockMovement]:
    cursor = None
    while True:
        page = movement_page(user=user, queryset=queryset, cursor=cursor, limit=2000)
        yield from page.rows
        if not page.next_cursor:
            return
        cursor = page.next_cursor


# --------------------------------------------------------------------------------------------
# Stock card of one goods (balance over time)
# --------------------------------------------------------------------------------------------


@dataclass
class CardLine:
    movement: StockMovement
    on_hand_after: int


def stock_card(
    *,
    user,
    goods: Goods,
    warehouse_id: int | None = None,
    cursor: str | None = None,
    limit: int = LEDGER_PAGE,
) -> KeysetPage:
    """The goods' movements newest first, each with the goods' on-hand total (in the warehouse,
    or in all) right after it: the balance over time. Three queries per page: the current total,
    the sum of the movements newer than the page, and the page itself."""
    scope = Q(goods_id=goods.pk)
    if warehouse_id is not None:
        scope &= Q(warehouse_id=warehouse_id)
    movements = movement_base(user=user).filter(scope)
    page = movement_page(user=user, queryset=movements, cursor=cursor, limit=limit)
    current = StockBalance.objects.filter(scope).aggregate(total=Sum("on_hand"))["total"] or 0
    newer = 0
    if page.rows and not page.is_first:
        top = page.rows[0]
        newer = (
            movements.filter(created_at__gte=top.created_at)
            .exclude(created_at=top.created_at, pk__lte=top.pk)
            .aggregate(total=Sum("on_hand_delta"))["total"]
            or 0
        )
    running = current - newer
    lines = []
    for movement in page.rows:
        lines.append(CardLine(movement=movement, on_hand_after=running))
        running -= movement.on_hand_delta
    page.rows = lines
    page.extra["current"] = current
    return page


def goods_stock_summary(*, user, goods: Goods) -> dict:
    """What the goods detail page and the stock card show above the history: totals per
    warehouse (on hand, frozen, reserved, available, in transit) and, for a combo, the units
    available through its components. Four queries."""
    per_warehouse = list(
        StockBalance.objects.filter(goods=goods)
        .values("warehouse_id", "warehouse__code", "warehouse__name")
        .annotate(on_hand=Sum("on_hand"), frozen=Sum("frozen"), reserved=Sum("reserved"))
        .order_by("warehouse__code")
    )
    transit = dict(
        StockTransferLine.objects.filter(
            transfer__status=StockTransfer.Status.IN_TRANSIT, goods=goods
        )
        .values("transfer__to_warehouse_id")
        .annotate(units=Sum("quantity"))
        .values_list("transfer__to_warehouse_id", "units")
    )
    for row in per_warehouse:
        row["available"] = row["on_hand"] - row["frozen"] - row["reserved"]
        row["in_transit"] = transit.pop(row["warehouse_id"], 0)
    totals = {
        key: sum(row[key] for row in per_warehouse)
        for key in ("on_hand", "frozen", "reserved", "available")
    }
    totals["in_transit"] = sum(transit.values()) + sum(r["in_transit"] for r in per_warehouse)
    combo = None
    if goods.is_combo:
        combo = {
            "available": goods_available([goods.pk])[goods.pk],
            "components": list(
                ComboComponent.objects.filter(combo=goods)
                .select_related("component")
                .order_by("component__sku")
            ),
        }
    return {"per_warehouse": per_warehouse, "totals": totals, "combo": combo}


# --------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------

DOCUMENT_PAGE = 50


def document_page(
    *,
    user,
    queryset: QuerySet,
    cursor: str | None = None,
    limit: int = DOCUMENT_PAGE,
    line_relation: str = "lines",
) -> KeysetPage:
    """Newest documents first, keyset on id, with ``line_count`` and ``units`` per document
    (two queries per page)."""
    page = keyset_page(queryset, order=("-pk",), cursor=cursor, per_page=limit)
    if page.rows:
        model = type(page.rows[0])
        related = model._meta.get_field(line_relation).related_model
        parent = model._meta.get_field(line_relation).field.name
        quantity = "counted_quantity" if related.__name__ == "StockCountLine" else "quantity"
        totals = {
            row[parent]: row
            for row in related.objects.filter(**{f"{parent}__in": [d.pk for d in page.rows]})
            .values(parent)
            .annotate(n=Count("pk"), units=Sum(quantity))
        }
        for doc in page.rows:
            doc.line_count = totals.get(doc.pk, {}).get("n", 0)
            doc.units = totals.get(doc.pk, {}).get("units", 0) or 0
    return page


def inbound_sheets(*, user) -> QuerySet[InboundSheet]:
    return InboundSheet.objects.select_related(
        "warehouse", "created_by", "posted_by", "reversal_of"
    )


def outbound_sheets(*, user) -> QuerySet[OutboundSheet]:
    return OutboundSheet.objects.select_related(
        "warehouse", "created_by", "posted_by", "reversal_of"
    )


def transfers(*, user) -> QuerySet[StockTransfer]:
    return StockTransfer.objects.select_related(
        "from_warehouse", "to_warehouse", "created_by", "shipped_by", "received_by"
    )


def counts(*, user) -> QuerySet[StockCount]:
    return StockCount.objects.select_related("warehouse", "created_by", "posted_by")


def sheet_get(*, user, model, pk: int):
    """A sheet with its warehouse and people, its lines (goods, batch, bin selected), and the
    movements it posted; None when it does not exist."""
    queryset = inbound_sheets(user=user) if model is InboundSheet else outbound_sheets(user=user)
    sheet = queryset.filter(pk=pk).first()
    if sheet is None:
        return None
    sheet.line_rows = list(
        sheet.lines.select_related("goods", "batch", "bin", "bin__zone").order_by("pk")
    )
    sheet.reversed_by = model.objects.filter(reversal_of=sheet).first()
    return sheet


def document_movements(*, user, document_type: str, document_id: int) -> list[StockMovement]:
    """The movements one document posted, in posting order, each with ``notes`` (what hooks
    did within the posting, ``movement_notes``): one query, plus the notes provider's."""
    movements = list(
        StockMovement.objects.filter(document_type=document_type, document_id=document_id)
        .select_related("goods", "warehouse", "bin", "batch", "from_bin", "to_bin", "operator")
        .order_by("pk")
    )
    movement_notes(movements)
    return movements


def movement_notes(movements: list[StockMovement]) -> dict[str, list[hooks.PostingNote]]:
    """Set ``notes`` on each movement: the ``posting_notes`` (``inventory.hooks``) of its
    document that concern its balance ("5 units frozen on arrival by rule 'Sales returns'"),
    for the movements that brought stock in. One call of the provider for all of them; returns
    the notes per document number."""
    arrivals = [m for m in movements if m.on_hand_delta > 0 and m.document_ref]
    notes = hooks.posting_notes([m.document_ref for m in arrivals]) if arrivals else {}
    for movement in movements:
        movement.notes = [
            note
            for note in notes.get(movement.document_ref, [])
            if movement.on_hand_delta > 0 and movement.balance_id in note.balance_ids
        ]
    return notes


def transfer_get(*, user, pk: int) -> StockTransfer | None:
    transfer = transfers(user=user).filter(pk=pk).first()
    if transfer is None:
        return None
    transfer.line_rows = list(
        transfer.lines.select_related("goods", "batch", "from_bin", "to_bin").order_by("pk")
    )
    return transfer


def count_get(*, user, pk: int) -> StockCount | None:
    count = counts(user=user).filter(pk=pk).first()
    if count is None:
        return None
    count.line_rows = list(
        count.lines.select_related("goods", "batch", "bin").order_by("bin__code", "goods__sku")
    )
    if count.status == DocumentStatus.DRAFT and count.line_rows:
        current = {
            (g, b, x): on_hand
            for g, b, x, on_hand in StockBalance.objects.filter(
                bin_id__in=sorted({line.bin_id for line in count.line_rows}),
                goods_id__in=sorted({line.goods_id for line in count.line_rows}),
            ).values_list("goods_id", "bin_id", "batch_id", "on_hand")
        }
        for line in count.line_rows:
            line.current_on_hand = current.get((line.goods_id, line.bin_id, line.batch_id), 0)
    return count
