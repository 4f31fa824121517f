"""One resolver for every code a clerk scans or types: SKU, barcode (EAN-13, UPC-A, EAN-8, GTIN-14,
Code 128 text), GS1-128 with batch and expiry, bin code, document number.

``code_resolve(user=..., code=...)`` returns a ``ScanResult`` listing typed hits (``GoodsHit``,
``BatchHit``, ``BinHit``, ``DocumentHit``), filtered by what the user may view. It costs at most
three indexed queries, however the code reads:

* a document number (``IN-000012``, ``out-12``, ``FRZ-4``): one query on the document's primary key;
* a GS1 element string: the goods by GTIN (barcode IN its spellings), then the batch by number;
* anything else: goods by SKU (case-insensitive, the unique UPPER(sku) index) or barcode (every
  GTIN spelling when the code is a valid GTIN), then bins by code (UPPER(code) index), limited to
  a warehouse when the caller knows it. ``WH1/A-01-01`` (what bin labels encode) names the
  warehouse in the code itself.

Other apps add their document numbers with ``register_document_finder`` (freezes adds ``FRZ``);
``inventory`` never imports them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Q
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from inventory.codes import CodeError, GS1Data, gtin_forms, looks_like_gs1, normalize_scan
from inventory.codes import parse_gs1 as _parse_gs1
from inventory.models import (
    Batch,
    Goods,
    InboundSheet,
    OutboundSheet,
    StockCount,
    StockTransfer,
)
from warehouses.models import Bin, Warehouse

MAX_CODE_LENGTH = 200
_DOCUMENT_NUMBER = re.compile(r"^([A-Za-z]{2,4})-?(\d{1,12})$")


@dataclass(frozen=True)
class GoodsHit:
    goods: Goods
    via: str  # "sku", "barcode" or "gtin"
    kind: str = "goods"

    @property
    def url(self) -> str:
        return reverse("inventory:goods-detail", args=[self.goods.pk])

    @property
    def label(self) -> str:
        return str(self.goods)


@dataclass(frozen=True)
class BatchHit:
    """A GS1 scan naming a batch (10) of a known goods. ``batch`` is None when the goods has no
    batch of that number yet (a receipt creates it); ``expiry`` is what the label says (17)."""

    goods: Goods
    batch_no: str
    batch: Batch | None
    expiry: date | None
    kind: str = "batch"

    @property
    def url(self) -> str:
        return reverse("inventory:goods-batches", args=[self.goods.pk])

    @property
    def label(self) -> str:
        return f"{self.goods.sku} · {self.batch_no}"


@dataclass(frozen=True)
class BinHit:
    bin: Bin
    kind: str = "bin"

    @property
    def url(self) -> str:
        query = urlencode({"code": self.bin.code, "warehouse": self.bin.warehouse_id})
        return f"{reverse('warehouses:bin-lookup')}?{query}"

    @property
    def label(self) -> str:
        return f"{self.bin.warehouse.code}/{self.bin.code}"


@dataclass(frozen=True)
class DocumentHit:
    number: str
    title: str
    url: str
    status: str
    kind: str = "document"

    @property
    def label(self) -> str:
        return f"{self.number} · {self.title}"


Hit = GoodsHit | BatchHit | BinHit | DocumentHit


@dataclass
class ScanResult:
    """What a code resolved to. ``hits`` is empty when nothing matched (``problem`` then says why
    in words a clerk understands, already translated); more than one hit means the code is
    ambiguous (a SKU that is also a bin code) and the screen asks which was meant."""

    code: str
    hits: list[Hit] = field(default_factory=list)
    gs1: GS1Data | None = None
    problem: str = ""

    @property
    def hit(self) -> Hit | None:
        return self.hits[0] if len(self.hits) == 1 else None

    def of_kind(self, kind: str) -> list[Hit]:
        return [hit for hit in self.hits if hit.kind == kind]


# --- documents --------------------------------------------------------------------------------

DocumentFinder = Callable[[object, int], "DocumentHit | None"]
_document_finders: dict[str, DocumentFinder] = {}


def register_document_finder(prefix: str, finder: DocumentFinder) -> None:
    """Let ``code_resolve`` open documents numbered ``<prefix>-<id>``: ``finder(user, pk)`` returns
    a ``DocumentHit`` (one query) or None when there is none or the user may not view it."""
    _document_finders[prefix.upper()] = finder


def _sheet_finder(model, view_perm: str, url_name: str):
    def find(user, pk: int) -> DocumentHit | None:
        if not user.has_perm(view_perm):
            return None
        document = model.objects.filter(pk=pk).only("pk", "status").first()
        if document is None:
            return None
        return DocumentHit(
            number=document.number,
            title=str(model._meta.verbose_name),
            url=reverse(url_name, args=[pk]),
            status=document.get_status_display(),
        )

    return find


register_document_finder(
    InboundSheet.PREFIX,
    _sheet_finder(InboundSheet, "inventory.view_inboundsheet", "inventory:inbound-detail"),
)
register_document_finder(
    OutboundSheet.PREFIX,
    _sheet_finder(OutboundSheet, "inventory.view_outboundsheet", "inventory:outbound-detail"),
)
register_document_finder(
    StockTransfer.PREFIX,
    _sheet_finder(StockTransfer, "inventory.view_stocktransfer", "inventory:transfer-detail"),
)
register_document_finder(
    StockCount.PREFIX,
    _sheet_finder(StockCount, "inventory.view_stockcount", "inventory:count-detail"),
)


def _document(user, code: str) -> tuple[bool, DocumentHit | None]:
    """(is a document number, the document or None)."""
    match = _DOCUMENT_NUMBER.match(code)
    if not match:
        return False, None
    finder = _document_finders.get(match.group(1).upper())
    if finder is None:
        return False, None
    pk = int(match.group(2))
    if pk <= 0 or pk > 2**63 - 1:
        return True, None
    return True, finder(user, pk)


# --- goods, batches, bins ---------------------------------------------------------------------


def _barcode_forms(code: str) -> list[str]:
    return gtin_forms(code) or [code]


def goods_scanned(code: str) -> list[tuple[Goods, str]]:
    """Goods whose SKU is ``code`` (any case) or whose barcode is ``code`` in any of its GTIN
    spellings, as (goods, "sku" | "barcode"): one query on the unique SKU and barcode indexes.
    The scanner's variant of ``inventory.selectors.goods.goods_by_code`` (which a typed field
    uses): a scan may spell one GTIN several ways and must say how each hit matched."""
    code = normalize_scan(code)
    if not code or len(code) > 64:
        return []
    barcodes = _barcode_forms(code)
    rows = list(
        Goods.objects.filter(Q(sku__iexact=code) | Q(barcode__in=barcodes))
        .select_related("brand")
        .order_by("pk")[:5]
    )
    return [(goods, "sku" if goods.sku.upper() == code.upper() else "barcode") for goods in rows]


def bins_by_code(code: str, *, warehouse: Warehouse | int | None = None) -> list[Bin]:
    """Bins whose code is ``code`` (any case), in one warehouse or in all; ``WH/CODE`` names the
    warehouse in the code. One query on the UPPER(code) index."""
    code = normalize_scan(code)
    if not code or len(code) > 70:
        return []
    queryset = Bin.objects.select_related("warehouse", "zone")
    if "/" in code:
        warehouse_code, _sep, code = code.partition("/")
        queryset = queryset.filter(warehouse__code__iexact=warehouse_code)
    if not code or len(code) > 32:
        return []
    queryset = queryset.filter(code__iexact=code)
    if warehouse is not None:
        queryset = queryset.filter(warehouse=warehouse)
    return list(queryset.order_by("warehouse__priority", "warehouse__code", "pk")[:20])


def _gs1_hits(user, gs1: GS1Data, *, label_batch: bool = False) -> tuple[list[Hit], str]:
    if not gs1.gtin:
        return [], _("This GS1 code carries no GTIN (01): it does not name goods.")
    found = list(Goods.objects.filter(barcode__in=gtin_forms(gs1.gtin)).select_related("brand")[:1])
    if not found:
        return [], _("No goods has the barcode %(gtin)s (GTIN in the scanned GS1 code).") % {
            "gtin": gs1.gtin
        }
    goods = found[0]
    if not gs1.batch:
        return [GoodsHit(goods=goods, via="gtin")], ""
    batch = Batch.objects.filter(goods=goods, batch_no=gs1.batch).first()
    expiry = gs1.expiry or (batch.expiry_date if batch else None)
    hit = BatchHit(goods=goods, batch_no=gs1.batch, batch=batch, expiry=expiry)
    if not label_batch and not user.has_perm("inventory.view_batch"):
        return [GoodsHit(goods=goods, via="gtin")], ""
    return [hit], ""


def code_resolve(
    *,
    user,
    code: str,
    warehouse: Warehouse | int | None = None,
    label_batch: bool = False,
) -> ScanResult:
    """Resolve a scanned or typed ``code`` (see the module docstring). ``warehouse`` limits bins
    to one warehouse (the one the clerk works in). Never raises on bad input: an unreadable code
    is a ``ScanResult`` with a ``problem``. A GS1 label's batch is shown only to users who may
    view batches, unless ``label_batch``: the scan sessions check and post what the label says
    (its batch decides which stock a unit is), whoever scans it."""
    raw = code or ""
    if len(raw) > MAX_CODE_LENGTH:
        return ScanResult(code=raw[:MAX_CODE_LENGTH], problem=_("This code is too long to read."))
    text = normalize_scan(raw)
    result = ScanResult(code=text)
    if not text:
        result.problem = _("Nothing was scanned.")
        return result
    if any(ord(char) < 32 and char != "\x1d" for char in text):
        result.problem = _("This code contains control characters and cannot be read.")
        return result

    is_document, document = _document(user, text)
    if is_document and document is not None:
        result.hits.append(document)
        return result

    if looks_like_gs1(text):
        try:
            result.gs1 = _parse_gs1(text)
        except CodeError as error:
            result.problem = _("This GS1 barcode cannot be read (%(detail)s). Scan it again.") % {
                "detail": str(error)
            }
            return result
        if user.has_perm("inventory.view_goods"):
            result.hits, result.problem = _gs1_hits(user, result.gs1, label_batch=label_batch)
        else:
            result.problem = _("Nothing found for %(code)s.") % {"code": text}
        return result

    if user.has_perm("inventory.view_goods"):
        result.hits.extend(GoodsHit(goods=goods, via=via) for goods, via in goods_scanned(text))
    if user.has_perm("warehouses.view_bin"):
        result.hits.extend(BinHit(bin=bin_) for bin_ in bins_by_code(text, warehouse=warehouse))
    if not result.hits:
        if is_document:
            result.problem = _("There is no document %(code)s.") % {"code": text}
        else:
            result.problem = _(
                "Nothing found for %(code)s: no goods with this SKU or barcode, no bin with this "
                "code, no document with this number."
            ) % {"code": text}
    return result
