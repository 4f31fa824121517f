"""The reads behind the pickers: one lookup per kind (goods, bin, batch, warehouse, document), each a
few rows by prefix, with a keyset cursor for "more", from indexes (migrations inventory 0011 and
warehouses 0004), so a lookup costs the same at 100,000 goods or bins as at 100.

Every lookup returns a ``LookupPage``: ``options`` (``value`` is what the typed-code field
accepts: a SKU, a bin code, a batch number...; ``label`` and ``detail`` are shown), and ``after``,
the cursor of the next page (None at the end). Keys compare in byte order of the upper-cased
code, the order of the indexes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Expression, Q, Sum
from django.db.models.functions import Collate, Upper
from django.urls import reverse

from inventory.codes import gtin_forms
from inventory.models import (
    Batch,
    Goods,
    InboundSheet,
    OutboundSheet,
    StockBalance,
    StockCount,
    StockTransfer,
)
from warehouses.models import Bin, Warehouse

MAX_LIMIT = 50
DEFAULT_LIMIT = 20
MAX_QUERY = 64


@dataclass(frozen=True)
class Option:
    id: int
    value: str
    label: str
    detail: str = ""
    url: str = ""

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "value": self.value,
            "label": self.label,
            "detail": self.detail,
            "url": self.url,
        }


@dataclass
class LookupPage:
    options: list[Option] = field(default_factory=list)
    after: str | None = None

    def as_dict(self) -> dict:
        return {"results": [option.as_dict() for option in self.options], "after": self.after}


def _key(name: str) -> Expression:
    """UPPER(name) in byte order: what the prefix indexes hold on PostgreSQL."""
    if connection.vendor == "postgresql":
        return Collate(Upper(name), "C")
    return Upper(name)


def _clean(text: str | None) -> str:
    text = "".join(char for char in (text or "") if char.isprintable())
    return " ".join(text.split())[:MAX_QUERY]


def clean_query(text: str | None) -> str:
    """What was typed into a picker, made safe to query with: printable characters only (a NUL
    would make PostgreSQL refuse the statement), single spaces, at most ``MAX_QUERY``."""
    return _clean(text)


def _limit(limit: int | None) -> int:
    return max(1, min(limit or DEFAULT_LIMIT, MAX_LIMIT))


def _prefix_page(queryset, *, key: str, q: str, after: str | None, limit: int):
    """Rows of ``queryset`` whose ``key`` starts with ``q`` (upper-cased), after the cursor,
    in key order: one indexed query of ``limit + 1`` rows."""
    queryset = queryset.annotate(lookup_key=_key(key))
    if q:
        queryset = queryset.filter(lookup_key__startswith=q.upper())
    after = _clean(after)
    if after:
        queryset = queryset.filter(lookup_key__gt=after)
    rows = list(queryset.order_by("lookup_key", "pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].lookup_key if more and rows else None)


def goods_lookup(*, user, q: str = "", after: str | None = None, limit: int | None = None):
    """Goods whose SKU starts with ``q`` (any case), in SKU order with a cursor; on the first
    page also goods whose name starts with ``q`` and the goods whose barcode is ``q`` (any GTIN
    spelling). At most three indexed queries; inactive goods are left out."""
    q, limit = _clean(q), _limit(limit)
    base = Goods.objects.filter(is_active=True).only("pk", "sku", "name", "barcode", "unit")
    rows, next_after = _prefix_page(base, key="sku", q=q, after=after, limit=limit)
    if q and not after and len(rows) < limit:
        seen = {goods.pk for goods in rows}
        by_name, _more = _prefix_page(
            base.exclude(pk__in=list(seen)), key="name", q=q, after=None, limit=limit - len(rows)
        )
        rows += by_name
        seen |= {goods.pk for goods in by_name}
        barcodes = gtin_forms(q) or ([q] if len(q) >= 4 else [])
        if barcodes and len(rows) < limit:
            rows += list(base.filter(barcode__in=barcodes).exclude(pk__in=list(seen))[:1])
    options = [
        Option(
            id=goods.pk,
            value=goods.sku,
            label=goods.sku,
            detail=" · ".join(part for part in (goods.name, goods.barcode) if part),
            url=reverse("inventory:goods-detail", args=[goods.pk]),
        )
        for goods in rows
    ]
    return LookupPage(options=options, after=next_after)


def bin_lookup(
    *,
    user,
    warehouse: Warehouse | int,
    q: str = "",
    after: str | None = None,
    limit: int | None = None,
    contents: int = 3,
):
    """Active bins of one warehouse whose code starts with ``q``, in code order with a cursor,
    each with what it holds (``detail``: up to ``contents`` goods with on-hand quantities, then
    "+N"). Two queries: the bins (warehouse + code prefix index) and their balances."""
    q, limit = _clean(q), _limit(limit)
    base = Bin.objects.filter(warehouse=warehouse, is_active=True).select_related("zone")
    rows, next_after = _prefix_page(base, key="code", q=q, after=after, limit=limit)
    held: dict[int, list[tuple[str, int]]] = {}
    if rows:
        balances = (
            StockBalance.objects.filter(bin_id__in=[bin_.pk for bin_ in rows], on_hand__gt=0)
            .values("bin_id", "goods__sku")
            .annotate(quantity=Sum("on_hand"))
            .order_by("bin_id", "goods__sku")
        )
        for row in balances:
            held.setdefault(row["bin_id"], []).append((row["goods__sku"], row["quantity"]))
    options = []
    for bin_ in rows:
        goods = held.get(bin_.pk, [])
        parts = [f"{sku} × {quantity}" for sku, quantity in goods[:contents]]
        if len(goods) > contents:
            parts.append(f"+{len(goods) - contents}")
        zone = f"{bin_.zone.code} · {bin_.zone.get_type_display()}"
        options.append(
            Option(
                id=bin_.pk,
                value=bin_.code,
                label=bin_.code,
                detail=" · ".join([zone, *parts]) if parts else zone,
            )
        )
    return LookupPage(options=options, after=next_after)


def batch_lookup(
    *, user, goods: Goods | int, q: str = "", after: str | None = None, limit: int | None = None
):
    """Batches of one goods whose number starts with ``q`` (any case), in number order with a
    cursor, each with its expiry date and on-hand quantity: one query (the goods' batches)."""
    q, limit = _clean(q), _limit(limit)
    base = Batch.objects.filter(goods=goods).annotate(on_hand=Sum("balances__on_hand", default=0))
    rows, next_after = _prefix_page(base, key="batch_no", q=q, after=after, limit=limit)
    options = [
        Option(
            id=batch.pk,
            value=batch.batch_no,
            label=batch.batch_no,
            detail=" · ".join(
                part
                for part in (
                    batch.expiry_date.isoformat() if batch.expiry_date else "",
                    str(batch.on_hand),
                )
                if part
            ),
        )
        for batch in rows
    ]
    return LookupPage(options=options, after=next_after)


def warehouse_lookup(*, user, q: str = "", after: str | None = None, limit: int | None = None):
    """Active warehouses whose code or name starts with ``q``, in code order: one query (a small
    table)."""
    q, limit = _clean(q), _limit(limit)
    base = Warehouse.objects.filter(is_active=True)
    if q:
        base = base.filter(Q(code__istartswith=q) | Q(name__istartswith=q))
    rows, next_after = _prefix_page(base, key="code", q="", after=after, limit=limit)
    options = [
        Option(id=warehouse.pk, value=warehouse.code, label=warehouse.code, detail=warehouse.name)
        for warehouse in rows
    ]
    return LookupPage(options=options, after=next_after)


DOCUMENT_KINDS = {
    "inbound": (InboundSheet, "inventory.view_inboundsheet", "inventory:inbound-detail"),
    "outbound": (OutboundSheet, "inventory.view_outboundsheet", "inventory:outbound-detail"),
    "transfer": (StockTransfer, "inventory.view_stocktransfer", "inventory:transfer-detail"),
    "count": (StockCount, "inventory.view_stockcount", "inventory:count-detail"),
}


def document_lookup(
    *, user, kind: str, q: str = "", after: str | None = None, limit: int | None = None
):
    """Documents of ``kind`` newest first: the one numbered ``q`` (``IN-12``, ``12``), or those
    whose reference starts with ``q`` (sheets), walking back from the newest by primary key. One
    query; empty for a kind the user may not view."""
    if kind not in DOCUMENT_KINDS:
        return LookupPage()
    model, perm, url_name = DOCUMENT_KINDS[kind]
    if not user.has_perm(perm):
        return LookupPage()
    q, limit, after = _clean(q), _limit(limit), _clean(after)
    queryset = model.objects.all()
    if after and after.isdigit() and len(after) < 19:
        queryset = queryset.filter(pk__lt=int(after))
    if q:
        digits = q.upper().removeprefix(model.PREFIX).lstrip("-")
        condition = Q(pk=int(digits)) if digits.isdigit() and len(digits) < 19 else Q(pk=None)
        if hasattr(model, "reference"):
            condition |= Q(reference__istartswith=q)
        queryset = queryset.filter(condition)
    rows = list(queryset.order_by("-pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    options = [
        Option(
            id=document.pk,
            value=document.number,
            label=document.number,
            detail=" · ".join(
                part
                for part in (document.get_status_display(), getattr(document, "reference", ""))
                if part
            ),
            url=reverse(url_name, args=[document.pk]),
        )
        for document in rows
    ]
    return LookupPage(options=options, after=str(rows[-1].pk) if more and rows else None)
