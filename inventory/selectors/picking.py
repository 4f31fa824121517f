"""What to pick for outbound sheets: the pick plan the pick list prints and the scanner follows.

``pick_plan(sheets)`` turns draft outbound sheets into rows (sheet, goods, bin, batch, quantity)
in bin walk order: a line with a bin is picked there; a line without one is spread over the
warehouse's available stock first-expiry-first-out (active bins only, bin code breaking ties), as
the ledger would pick it. Frozen units are planned only for a line taken from frozen stock (scrap, purchase return: the
ledger takes those from the frozen column), reserved units never, so a bin whose stock a
freeze holds is not on the list and a scan of it is refused at once. Sheets of one wave share the
stock: two sheets never get the same units. Posted sheets plan from their movements (what they
took). Two queries for any number of drafts of one warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import F, Q
from django.utils import timezone

from inventory.models import (
    DocumentType,
    OutboundLine,
    OutboundSheet,
    StockBalance,
    StockMovement,
)


@dataclass
class PickRow:
    """One stop of the walk: ``quantity`` units of a goods (of a batch) from a bin for a sheet.
    ``bin_id`` is None when the warehouse has not enough available stock to plan (shown as "—")."""

    sheet_id: int
    sheet_number: str
    goods_id: int
    sku: str
    name: str
    unit: str
    barcode: str
    bin_id: int | None
    bin_code: str
    batch_id: int | None
    batch_no: str
    expiry: date | None
    quantity: int
    from_frozen: bool = False

    @property
    def walk_key(self) -> tuple:
        return (self.bin_id is None, self.bin_code, self.sku, self.batch_no, self.sheet_number)


def _posted_rows(sheet: OutboundSheet) -> list[PickRow]:
    movements = (
        StockMovement.objects.filter(
            document_type=DocumentType.OUTBOUND, document_id=sheet.pk, on_hand_delta__lt=0
        )
        .select_related("goods", "bin", "batch")
        .order_by("pk")
    )
    return [
        PickRow(
            sheet_id=sheet.pk,
            sheet_number=sheet.number,
            goods_id=m.goods_id,
            sku=m.goods.sku,
            name=m.goods.name,
            unit=m.goods.unit,
            barcode=m.goods.barcode or "",
            bin_id=m.bin_id,
            bin_code=m.bin.code,
            batch_id=m.batch_id,
            batch_no=m.batch.batch_no if m.batch else "",
            expiry=m.batch.expiry_date if m.batch else None,
            quantity=m.quantity,
        )
        for m in movements
    ]


def pick_plan(sheets: list[OutboundSheet]) -> list[PickRow]:
    """The pick rows of ``sheets`` (drafts of one warehouse, or posted sheets), sorted in bin
    walk order (bin code, then SKU, batch and sheet). Reads only; locks nothing: posting decides
    in the end, and the scanner re-checks each scan against the plan of the moment."""
    rows: list[PickRow] = []
    drafts = [sheet for sheet in sheets if sheet.is_draft]
    for sheet in sheets:
        if not sheet.is_draft:
            rows.extend(_posted_rows(sheet))
    if not drafts:
        return sorted(rows, key=lambda row: row.walk_key)
    by_sheet = {sheet.pk: sheet for sheet in drafts}
    lines = list(
        OutboundLine.objects.filter(sheet_id__in=sorted(by_sheet))
        .select_related("goods", "batch", "bin")
        .order_by("sheet_id", "pk")
    )
    open_goods = sorted({line.goods_id for line in lines if line.bin_id is None})
    warehouses = sorted({sheet.warehouse_id for sheet in drafts})
    candidates: dict[tuple[int, int], list[StockBalance]] = {}
    if open_goods:
        balances = (
            StockBalance.objects.filter(
                warehouse_id__in=warehouses, goods_id__in=open_goods, bin__is_active=True
            )
            .with_available()
            .filter(Q(available_qty__gt=0) | Q(frozen__gt=0))
            .select_related("bin", "batch")
            .order_by(F("batch__expiry_date").asc(nulls_last=True), "bin__code", "pk")
        )
        for balance in balances:
            balance.promised = {"available": 0, "frozen": 0}
            candidates.setdefault((balance.warehouse_id, balance.goods_id), []).append(balance)
    today = timezone.localdate()
    for line in lines:
        sheet = by_sheet[line.sheet_id]
        common = {
            "sheet_id": sheet.pk,
            "sheet_number": sheet.number,
            "goods_id": line.goods_id,
            "sku": line.goods.sku,
            "name": line.goods.name,
            "unit": line.goods.unit,
            "barcode": line.goods.barcode or "",
            "from_frozen": line.from_frozen,
        }
        if line.bin_id is not None:
            rows.append(
                PickRow(
                    bin_id=line.bin_id,
                    bin_code=line.bin.code,
                    batch_id=line.batch_id,
                    batch_no=line.batch.batch_no if line.batch else "",
                    expiry=line.batch.expiry_date if line.batch else None,
                    quantity=line.quantity,
                    **common,
                )
            )
            continue
        left = line.quantity
        for balance in candidates.get((sheet.warehouse_id, line.goods_id), []):
            if left <= 0:
                break
            if line.batch_id and balance.batch_id != line.batch_id:
                continue
            expiry = balance.batch.expiry_date if balance.batch else None
            if expiry is not None and expiry < today and not sheet.allow_expired:
                continue
            column = "frozen" if line.from_frozen else "available"
            free = balance.frozen if line.from_frozen else balance.available_qty
            take = min(left, free - balance.promised[column])
            if take <= 0:
                continue
            balance.promised[column] += take
            left -= take
            rows.append(
                PickRow(
                    bin_id=balance.bin_id,
                    bin_code=balance.bin.code,
                    batch_id=balance.batch_id,
                    batch_no=balance.batch.batch_no if balance.batch else "",
                    expiry=balance.batch.expiry_date if balance.batch else None,
                    quantity=take,
                    **common,
                )
            )
        if left > 0:
            rows.append(
                PickRow(
                    bin_id=None,
                    bin_code="—",
                    batch_id=line.batch_id,
                    batch_no=line.batch.batch_no if line.batch else "",
                    expiry=line.batch.expiry_date if line.batch else None,
                    quantity=left,
                    **common,
                )
            )
    return sorted(rows, key=lambda row: row.walk_key)


def merge_by_stop(rows: list[PickRow]) -> list[tuple[PickRow, list[tuple[str, int]]]]:
    """A wave's rows merged per stop (bin, goods, batch), in walk order: the row carrying the
    total quantity, and which sheet takes how many (for the pick list's "for" column)."""
    merged: dict[tuple, tuple[PickRow, list[tuple[str, int]]]] = {}
    for row in rows:
        key = (row.bin_id, row.bin_code, row.goods_id, row.batch_id)
        if key not in merged:
            total = PickRow(**{**row.__dict__, "sheet_id": 0, "sheet_number": ""})
            merged[key] = (total, [(row.sheet_number, row.quantity)])
        else:
            total, shares = merged[key]
            total.quantity += row.quantity
            shares.append((row.sheet_number, row.quantity))
    return sorted(merged.values(), key=lambda item: item[0].walk_key)
