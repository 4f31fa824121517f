"""Store sales (门店销售): one store's units sold of one goods on one day and, optionally, the
store's own on-hand that day. Entered on a screen (``store_sales_set``), imported from a sheet
(``allocation.imports``) or sent in batches by a store's POS over the API
(``store_sales_bulk_set``). The rules a row meets, whichever way it comes in, are
``SalesRules``: the import and the batch check their rows with the same object."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from allocation.exceptions import AllocationError, InvalidQuantity, NotAllowed, SalesRowsInvalid
from allocation.models import Store, StoreSales
from inventory.imports.goods import goods_by_sku_key

MAX_UNITS = 10_000_000
OLDEST = datetime.date(2000, 1, 1)
#: The most rows one batch (``store_sales_bulk_set``, ``POST /api/v1/store-sales/``) may carry.
MAX_BATCH = 5000
AMBIGUOUS = 0  # no store has pk 0


def store_sales_set(
    *, user, store: Store, goods, day: datetime.date, units_sold: int, on_hand: int | None
) -> StoreSales:
    """Record (or replace) one store's sales of one goods on one day. Refuses another
    manager's store, a day in the future or before 2000 and figures outside 0 to
    ``MAX_UNITS`` (the limits of ``SalesRules``, which the import and the API batches meet)."""
    if not Store.objects.for_user(user).filter(pk=store.pk).exists():
        raise NotAllowed(_("You do not run this store."))
    if day > timezone.localdate():
        raise AllocationError(_("The day is in the future."), field="day")
    if day < OLDEST:
        raise AllocationError(_("Sales before 2000 are not kept: check the day."), field="day")
    for field, message in _figures_out_of_range(units_sold, on_hand):
        raise InvalidQuantity(message, field=field)
    row, _created = StoreSales.objects.update_or_create(
        store=store,
        goods=goods,
        day=day,
        defaults={"units_sold": units_sold, "on_hand": on_hand},
    )
    return row


def _figures_out_of_range(units_sold: int, on_hand: int | None) -> list[tuple[str, str]]:
    """(field, message) for each figure outside 0 to ``MAX_UNITS`` (on-hand may be missing)."""
    return [
        (field, _("must be between 0 and %(max)s") % {"max": MAX_UNITS})
        for field, number in (("units_sold", units_sold), ("on_hand", on_hand))
        if number is not None and not 0 <= number <= MAX_UNITS
    ]


@dataclass(frozen=True, slots=True)
class SalesRow:
    """One row of store sales as it arrives: the store by its code, the goods by its SKU."""

    store: str
    sku: str
    day: datetime.date
    units_sold: int
    on_hand: int | None = None


#: (store id, goods id, day): the row a checked line of sales writes.
SalesKey = tuple[int, int, datetime.date]


class SalesRules:
    """The rules every row of store sales meets: the store is one the user runs
    (``Store.objects.for_user``; with no user, any store) and the SKU an existing goods, both
    matched whatever their case; the day is neither in the future nor before 2000; units sold
    and on-hand are 0 to ``MAX_UNITS``; a (store, goods, day) comes once per run.

    One object checks one run (an import, a batch): the user's stores are loaded once (one
    query), each SKU once (``load_goods``, one query per call), and the keys seen are kept
    packed in one integer each, so a million rows never sit in memory as rows."""

    __slots__ = ("exact", "goods", "seen", "stores", "today")

    def __init__(self, user) -> None:
        stores = Store.objects.all() if user is None else Store.objects.for_user(user)
        pairs = list(stores.values_list("pk", "code"))
        # a code matches its store exactly, else whatever its case; two stores whose codes
        # differ only in case are not guessed between (AMBIGUOUS): the row names one exactly
        self.exact = {code: pk for pk, code in pairs}
        self.stores: dict[str, int] = {}
        for pk, code in pairs:
            key = code.upper()
            self.stores[key] = AMBIGUOUS if key in self.stores else pk
        self.goods: dict[str, int | None] = {}
        self.seen: set[int] = set()
        self.today = timezone.localdate()

    def load_goods(self, skus: Iterable[str]) -> None:
        """Look up the SKUs not looked up yet in this run (one query)."""
        goods = self.goods
        wanted = sorted({sku.upper() for sku in skus} - goods.keys())
        found = goods_by_sku_key(wanted)
        for key in wanted:
            goods[key] = found[key][0] if key in found else None

    def check(
        self, store: str, sku: str, day: datetime.date, units_sold: int, on_hand: int | None
    ) -> tuple[SalesKey | None, list[tuple[str, str]]]:
        """The row's key, or None and its refusals as (field, message); the row's SKU must
        have been through ``load_goods``. A row that passes is remembered: the same store,
        goods and day later in the run is refused."""
        store_id = self.exact.get(store) or self.stores.get(store.upper())
        if store_id is None:
            return None, [("store", _("'%(code)s' is not one of your stores") % {"code": store})]
        if store_id == AMBIGUOUS:
            return None, [
                (
                    "store",
                    _("'%(code)s' matches stores whose codes differ only in case: write it exactly")
                    % {"code": store},
                )
            ]
        goods_id = self.goods.get(sku.upper())
        if goods_id is None:
            return None, [("sku", _("'%(sku)s' does not exist") % {"sku": sku})]
        if day > self.today or day < OLDEST:
            return None, [("day", _("%(day)s is in the future or too old") % {"day": day})]
        problems = _figures_out_of_range(units_sold, on_hand)
        if problems:
            return None, problems
        packed = (store_id << 44) | (goods_id << 20) | day.toordinal()
        if packed in self.seen:
            return None, [("day", _("this store, goods and day are on an earlier row"))]
        self.seen.add(packed)
        return (store_id, goods_id, day), []


def _checked(
    user, rows: Mapping[int, SalesRow]
) -> tuple[list[StoreSales], dict[int, dict[str, list[str]]]]:
    rules = SalesRules(user)
    rules.load_goods(row.sku for row in rows.values())
    found: list[StoreSales] = []
    errors: dict[int, dict[str, list[str]]] = {}
    for index, row in rows.items():
        key, problems = rules.check(row.store, row.sku, row.day, row.units_sold, row.on_hand)
        if key is None:
            for field, message in problems:
                errors.setdefault(index, {}).setdefault(field, []).append(message)
            continue
        found.append(
            StoreSales(
                store_id=key[0],
                goods_id=key[1],
                day=key[2],
                units_sold=row.units_sold,
                on_hand=row.on_hand,
            )
        )
    return found, errors


def store_sales_check(*, user, rows: Mapping[int, SalesRow]) -> dict[int, dict[str, list[str]]]:
    """The refusals ``SalesRules`` gives the rows, by the rows' own keys (their index in what
    the caller received), as ``{index: {field: [messages]}}``; empty when all pass. Writes
    nothing. Two queries whatever the number of rows."""
    return _checked(user, rows)[1]


def store_sales_bulk_set(*, user, rows: Sequence[SalesRow]) -> int:
    """Record (or replace) a batch of store sales, all or nothing, and return how many rows
    were written. Every row is checked by ``SalesRules`` first; any refusal raises
    ``SalesRowsInvalid`` naming each bad row by its index, and nothing is written. Then one
    ``INSERT ... ON CONFLICT (store, goods, day) DO UPDATE`` writes the batch: a day sent
    again replaces its figures, never adds a row. More than ``MAX_BATCH`` rows:
    ``InvalidQuantity``.

    Locking: the rows are written in (store, goods, day) order, so two batches sharing rows
    take their row locks in the same order and cannot deadlock; a batch meeting a row another
    batch has just written waits for that transaction and then replaces its figures (the last
    to commit wins). Three queries on PostgreSQL whatever the number of rows (the user's
    stores, the SKUs, the write); on SQLite the write is split in chunks of 199 rows."""
    if len(rows) > MAX_BATCH:
        raise InvalidQuantity(
            _("Send at most %(max)s rows at a time.") % {"max": MAX_BATCH}, field="rows"
        )
    found, errors = _checked(user, dict(enumerate(rows)))
    if errors:
        raise SalesRowsInvalid(errors)
    found.sort(key=lambda sales: (sales.store_id, sales.goods_id, sales.day))
    with transaction.atomic():
        store_sales_write(found)
    return len(found)


def store_sales_write(rows: list[StoreSales]) -> None:
    """Upsert checked rows (unsaved ``StoreSales``) in one statement per database batch: a
    (store, goods, day) already stored gets the new figures. Callers check the rows
    (``SalesRules``) and order them (see ``store_sales_bulk_set``)."""
    if rows:
        StoreSales.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["store", "goods", "day"],
            update_fields=["units_sold", "on_hand"],
        )
