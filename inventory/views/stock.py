"""Stock screens: the stock query, the ledger, stock cards, sheets, transfers and counts.

Thin views: parse with a form or FilterSet, call a selector or a service, render the page or
(for htmx) its partial. Anonymous visitors go to the login page, a user without the permission
gets 403, an unknown id 404. Refusals of the ledger and services (``StockError``) become form
errors (status 422) or messages; nothing is written then. Lists are keyset-paginated
(``?cursor=``) with a constant number of queries per page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from inventory.exceptions import StockError
from inventory.filters_stock import MovementFilter, SheetFilter, StockFilter, TransferFilter
from inventory.forms_stock import (
    BinTransferForm,
    CountForm,
    CountLineForm,
    InboundLineForm,
    InboundSheetForm,
    OutboundLineForm,
    OutboundSheetForm,
    ReasonForm,
    TransferForm,
    TransferLineForm,
    TransferReceiveForm,
    new_token,
)
from inventory.models import (
    DocumentType,
    Goods,
    InboundLine,
    InboundSheet,
    OutboundLine,
    OutboundSheet,
    StockCountLine,
    StockTransfer,
    StockTransferLine,
)
from inventory.selectors import stock as selectors
from inventory.selectors.goods import goods_get
from inventory.services import stock as services
from wms.http import View, parse_id, permission, respond
from wms.writers import export_response


def _cursor(request: HttpRequest) -> str | None:
    return request.GET.get("cursor") or None


# --------------------------------------------------------------------------------------------
# Exports (xlsx / csv), formula-escaped
# --------------------------------------------------------------------------------------------


def _export_format(request: HttpRequest) -> str:
    fmt = request.GET.get("format", "xlsx")
    if fmt not in ("xlsx", "csv"):
        raise Http404
    return fmt


# --------------------------------------------------------------------------------------------
# Stock query, ledger, stock card
# --------------------------------------------------------------------------------------------


def _stock_filter(request: HttpRequest) -> tuple[StockFilter, bool]:
    filterset = StockFilter(request.GET or None, queryset=selectors.stock_base(user=request.user))
    valid = not filterset.is_bound or filterset.is_valid()
    return filterset, valid


@permission("inventory.view_stockbalance")
@require_GET
def stock_query_view(request: HttpRequest) -> HttpResponse:
    filterset, valid = _stock_filter(request)
    page = None
    if valid:
        page = selectors.stock_page(
            user=request.user,
            queryset=filterset.qs,
            group=filterset.grouping,
            cursor=_cursor(request),
            frozen_groups_only=filterset.wants_frozen_groups,
        )
    context = {
        "filterset": filterset,
        "page": page,
        "group": filterset.grouping if valid else "bin",
    }
    return respond(
        request,
        "inventory/stock_query.html",
        context,
        partial="results",
        status=200 if valid else 422,
    )


@permission("inventory.view_stockbalance", "inventory.export_stock")
@require_GET
def stock_export_view(request: HttpRequest) -> HttpResponse:
    fmt = _export_format(request)
    filterset, valid = _stock_filter(request)
    if not valid:
        messages.error(request, _("Correct the filters before exporting."))
        return redirect("inventory:stock-query")
    group = filterset.grouping
    header = [_("SKU"), _("Name"), _("Unit")]
    if group == "bin":
        header += [_("Warehouse"), _("Zone"), _("Bin"), _("Batch"), _("Expiry")]
    elif group == "warehouse":
        header += [_("Warehouse")]
    elif group == "batch":
        header += [_("Batch"), _("Expiry")]
    header += [_("On hand"), _("Frozen"), _("Reserved"), _("Available")]
    if group == "goods":
        header += [_("In transit")]

    def rows() -> Iterator[list[object]]:
        for row in selectors.stock_export_rows(
            user=request.user,
            queryset=filterset.qs,
            group=group,
            frozen_groups_only=filterset.wants_frozen_groups,
        ):
            line: list[object] = [row.sku, row.name, row.unit]
            if group == "bin":
                line += [
                    row.warehouse_code,
                    row.zone_code,
                    row.bin_code,
                    row.batch_no,
                    row.expiry_date,
                ]
            elif group == "warehouse":
                line += [row.warehouse_code]
            elif group == "batch":
                line += [row.batch_no, row.expiry_date]
            line += [row.on_hand, row.frozen, row.reserved, row.available]
            if group == "goods":
                line += [row.in_transit]
            yield line

    return export_response(fmt, "stock", header, rows())


def _movement_filter(request: HttpRequest) -> tuple[MovementFilter, bool]:
    filterset = MovementFilter(
        request.GET or None, queryset=selectors.movement_base(user=request.user)
    )
    valid = not filterset.is_bound or filterset.is_valid()
    return filterset, valid


@permission("inventory.view_stockmovement")
@require_GET
def ledger_view(request: HttpRequest) -> HttpResponse:
    filterset, valid = _movement_filter(request)
    page = (
        selectors.movement_page(user=request.user, queryset=filterset.qs, cursor=_cursor(request))
        if valid
        else None
    )
    if page is not None:
        selectors.movement_notes(page.rows)
    return respond(
        request,
        "inventory/ledger_list.html",
        {"filterset": filterset, "page": page},
        partial="results",
        status=200 if valid else 422,
    )


@permission("inventory.view_stockmovement", "inventory.export_stock")
@require_GET
def ledger_export_view(request: HttpRequest) -> HttpResponse:
    fmt = _export_format(request)
    filterset, valid = _movement_filter(request)
    if not valid:
        messages.error(request, _("Correct the filters before exporting."))
        return redirect("inventory:ledger")
    header = [
        _("Time"),
        _("Kind"),
        _("Document"),
        _("SKU"),
        _("Name"),
        _("Warehouse"),
        _("Bin"),
        _("From bin"),
        _("To bin"),
        _("Batch"),
        _("Quantity"),
        _("On hand change"),
        _("Frozen change"),
        _("Reserved change"),
        _("Operator"),
        _("Reason"),
    ]

    def rows() -> Iterator[list[object]]:
        for m in selectors.movement_export_rows(user=request.user, queryset=filterset.qs):
            yield [
                timezone.localtime(m.created_at).replace(tzinfo=None),
                m.get_kind_display(),
                m.document_ref,
                m.goods.sku,
                m.goods.name,
                m.warehouse.code,
                m.bin.code,
                m.from_bin.code if m.from_bin_id else "",
                m.to_bin.code if m.to_bin_id else "",
                m.batch.batch_no if m.batch_id else "",
                m.quantity,
                m.on_hand_delta,
                m.frozen_delta,
                m.reserved_delta,
                m.operator.get_username() if m.operator_id else "",
                m.reason_display,
            ]

    return export_response(fmt, "ledger", header, rows())


@permission("inventory.view_stockbalance")
@require_GET
def stock_card_view(request: HttpRequest, pk: int) -> HttpResponse:
    goods = goods_get(pk)
    if goods is None:
        raise Http404
    summary = selectors.goods_stock_summary(user=request.user, goods=goods)
    warehouse_id = parse_id(request.GET.get("warehouse"))
    history = selectors.stock_card(
        user=request.user, goods=goods, warehouse_id=warehouse_id, cursor=_cursor(request)
    )
    balances = selectors.stock_page(
        user=request.user,
        queryset=selectors.stock_base(user=request.user).filter(goods=goods, on_hand__gt=0),
        group="bin",
        limit=100,
    )
    context = {
        "goods": goods,
        "summary": summary,
        "history": history,
        "balances": balances,
        "warehouse_id": warehouse_id,
    }
    return respond(request, "inventory/stock_card.html", context, partial="history")


@permission("inventory.view_stockbalance")
@require_GET
def stock_goods_section_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The stock section of the goods detail page (loaded by htmx from that page)."""
    goods = get_object_or_404(Goods, pk=pk)
    summary = selectors.goods_stock_summary(user=request.user, goods=goods)
    response = render(
        request, "inventory/stock_goods_section.html#section", {"goods": goods, "summary": summary}
    )
    patch_vary_headers(response, ("HX-Request",))
    return response


# --------------------------------------------------------------------------------------------
# Inbound and outbound sheets
# --------------------------------------------------------------------------------------------

StrOrPromise = str | Promise


@dataclass(frozen=True, slots=True)
class SheetKind:
    """One direction of stock sheets (inbound or outbound): what the shared sheet views need.
    Titles are lazy, so each request renders them in its own language."""

    direction: str
    model: type[InboundSheet] | type[OutboundSheet]
    line_model: type[InboundLine] | type[OutboundLine]
    queryset: Callable[..., QuerySet]
    document_type: str
    title: StrOrPromise
    new_title: StrOrPromise
    create: Callable[..., object]
    post: Callable[..., object]
    reverse: Callable[..., object]
    delete: Callable[..., object]
    line_remove: Callable[..., object]

    @property
    def list_url(self) -> str:
        return f"inventory:{self.direction}-list"

    @property
    def detail_url(self) -> str:
        return f"inventory:{self.direction}-detail"


INBOUND = SheetKind(
    direction="inbound",
    model=InboundSheet,
    line_model=InboundLine,
    queryset=selectors.inbound_sheets,
    document_type=DocumentType.INBOUND,
    title=gettext_lazy("Inbound sheets"),
    new_title=gettext_lazy("New inbound sheet"),
    create=services.inbound_sheet_create,
    post=services.inbound_sheet_post,
    reverse=services.inbound_sheet_reverse,
    delete=services.inbound_sheet_delete,
    line_remove=services.inbound_line_remove,
)
OUTBOUND = SheetKind(
    direction="outbound",
    model=OutboundSheet,
    line_model=OutboundLine,
    queryset=selectors.outbound_sheets,
    document_type=DocumentType.OUTBOUND,
    title=gettext_lazy("Outbound sheets"),
    new_title=gettext_lazy("New outbound sheet"),
    create=services.outbound_sheet_create,
    post=services.outbound_sheet_post,
    reverse=services.outbound_sheet_reverse,
    delete=services.outbound_sheet_delete,
    line_remove=services.outbound_line_remove,
)
SHEET_KINDS: dict[str, SheetKind] = {kind.direction: kind for kind in (INBOUND, OUTBOUND)}


def _perm(direction: str, action: str) -> str:
    return f"inventory.{action}_{direction}sheet"


def _check(request: HttpRequest, *perms: str) -> None:
    if not request.user.has_perms(perms):
        raise PermissionDenied


def _sheet_view(action: str) -> Callable[[View], View]:
    """Login, then the sheet permission ``<action>_<direction>sheet`` (403)."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, direction: str, **kwargs) -> HttpResponse:
            if direction not in SHEET_KINDS:
                raise Http404
            _check(request, _perm(direction, action))
            return view(request, *args, direction=direction, **kwargs)

        return login_required(wrapper)

    return decorator


@_sheet_view("view")
@require_GET
def sheet_list_view(request: HttpRequest, direction: str) -> HttpResponse:
    kind = SHEET_KINDS[direction]
    filterset = SheetFilter(
        request.GET or None,
        queryset=kind.queryset(user=request.user),
        type_choices=kind.model.Type.choices,
    )
    valid = not filterset.is_bound or filterset.is_valid()
    page = (
        selectors.document_page(user=request.user, queryset=filterset.qs, cursor=_cursor(request))
        if valid
        else None
    )
    context = {"filterset": filterset, "page": page, "direction": direction, "kind": kind}
    return respond(
        request,
        "inventory/sheet_list.html",
        context,
        partial="results",
        status=200 if valid else 422,
    )


def _sheet_form(direction: str, request: HttpRequest, data=None):
    if direction == "outbound":
        return OutboundSheetForm(
            data, may_ship_expired=request.user.has_perm("inventory.ship_expired")
        )
    return InboundSheetForm(data)


@_sheet_view("add")
@require_http_methods(["GET", "POST"])
def sheet_create_view(request: HttpRequest, direction: str) -> HttpResponse:
    kind = SHEET_KINDS[direction]
    form = _sheet_form(direction, request, request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                sheet = kind.create(user=request.user, **form.cleaned_data)
            except StockError as error:
                form.add_domain_error(error)
            else:
                messages.success(request, _("%(doc)s created.") % {"doc": sheet.number})
                return redirect(f"inventory:{direction}-detail", pk=sheet.pk)
        return respond(
            request,
            "inventory/sheet_form.html",
            {"form": form, "direction": direction, "kind": kind},
            status=422,
        )
    return respond(
        request,
        "inventory/sheet_form.html",
        {"form": form, "direction": direction, "kind": kind},
    )


def _line_form(direction: str, sheet, data=None):
    if direction == "outbound":
        return OutboundLineForm(
            data,
            warehouse_id=sheet.warehouse_id,
            allow_frozen=sheet.type in OutboundSheet.FROM_FROZEN_TYPES,
        )
    return InboundLineForm(data, warehouse_id=sheet.warehouse_id)


def _sheet_context(request: HttpRequest, direction: str, pk: int, line_form=None) -> dict:
    kind = SHEET_KINDS[direction]
    sheet = selectors.sheet_get(user=request.user, model=kind.model, pk=pk)
    if sheet is None:
        raise Http404
    movements = []
    if not sheet.is_draft:
        movements = selectors.document_movements(
            user=request.user, document_type=kind.document_type, document_id=sheet.pk
        )
    notes = []
    if movements:
        notes = [note for m in movements for note in m.notes]
        notes = list({(note.ref, note.text): note for note in notes}.values())
    return {
        "sheet": sheet,
        "direction": direction,
        "kind": kind,
        "movements": movements,
        "posting_notes": notes,
        "line_form": line_form or (_line_form(direction, sheet) if sheet.is_draft else None),
        "can_edit": sheet.is_draft and request.user.has_perm(_perm(direction, "change")),
        "can_post": request.user.has_perm("inventory.post_sheet"),
        "can_delete": sheet.is_draft and request.user.has_perm(_perm(direction, "delete")),
    }


@_sheet_view("view")
@require_GET
def sheet_detail_view(request: HttpRequest, direction: str, pk: int) -> HttpResponse:
    return respond(request, "inventory/sheet_detail.html", _sheet_context(request, direction, pk))


@_sheet_view("change")
@require_POST
def sheet_line_add_view(request: HttpRequest, direction: str, pk: int) -> HttpResponse:
    kind = SHEET_KINDS[direction]
    sheet = get_object_or_404(kind.model, pk=pk)
    form = _line_form(direction, sheet, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if direction == "inbound":
                services.inbound_line_add(
                    sheet=sheet,
                    goods=data["goods"],
                    bin=data["bin"],
                    quantity=data["quantity"],
                    batch_no=data.get("batch_no") or "",
                    production_date=data.get("production_date"),
                    expiry_date=data.get("expiry_date"),
                )
            else:
                services.outbound_line_add(
                    sheet=sheet,
                    goods=data["goods"],
                    quantity=data["quantity"],
                    bin=data.get("bin"),
                    batch=data.get("batch"),
                    from_frozen=data.get("from_frozen", False),
                )
        except StockError as error:
            form.add_domain_error(error)
        else:
            if not request.htmx:
                messages.success(request, _("Line added."))
                return redirect(f"inventory:{direction}-detail", pk=pk)
            context = _sheet_context(request, direction, pk)
            return respond(request, "inventory/sheet_detail.html", context, partial="lines")
    context = _sheet_context(request, direction, pk, line_form=form)
    return respond(request, "inventory/sheet_detail.html", context, partial="lines", status=422)


@_sheet_view("change")
@require_POST
def sheet_line_remove_view(
    request: HttpRequest, direction: str, pk: int, line: int
) -> HttpResponse:
    kind = SHEET_KINDS[direction]
    found = get_object_or_404(kind.line_model, pk=line, sheet_id=pk)
    try:
        kind.line_remove(line=found)
    except StockError as error:
        messages.error(request, error.message_html)
    if request.htmx:
        context = _sheet_context(request, direction, pk)
        return respond(request, "inventory/sheet_detail.html", context, partial="lines")
    return redirect(f"inventory:{direction}-detail", pk=pk)


@_sheet_view("view")
@require_POST
def sheet_post_view(request: HttpRequest, direction: str, pk: int) -> HttpResponse:
    _check(request, "inventory.post_sheet")
    kind = SHEET_KINDS[direction]
    get_object_or_404(kind.model, pk=pk)
    try:
        sheet = kind.post(sheet_id=pk, user=request.user)
    except StockError as error:
        messages.error(request, error.message_html)
    else:
        messages.success(request, _("%(doc)s posted.") % {"doc": sheet.number})
    response = redirect(f"inventory:{direction}-detail", pk=pk)
    response["HX-Trigger"] = "stock-changed"
    return response


@_sheet_view("view")
@require_http_methods(["GET", "POST"])
def sheet_reverse_view(request: HttpRequest, direction: str, pk: int) -> HttpResponse:
    _check(request, "inventory.post_sheet")
    kind = SHEET_KINDS[direction]
    sheet = get_object_or_404(kind.queryset(user=request.user), pk=pk)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            reversal = kind.reverse(
                sheet_id=pk, user=request.user, reason=form.cleaned_data["reason"]
            )
        except StockError as error:
            form.add_domain_error(error)
        else:
            messages.success(
                request,
                _("%(doc)s reversed by %(reversal)s.")
                % {"doc": sheet.number, "reversal": reversal.number},
            )
            return redirect(f"inventory:{direction}-detail", pk=reversal.pk)
    status = 422 if request.method == "POST" else 200
    return respond(
        request,
        "inventory/sheet_reverse.html",
        {"sheet": sheet, "form": form, "direction": direction, "kind": kind},
        status=status,
    )


@_sheet_view("delete")
@require_POST
def sheet_delete_view(request: HttpRequest, direction: str, pk: int) -> HttpResponse:
    kind = SHEET_KINDS[direction]
    sheet = get_object_or_404(kind.model, pk=pk)
    try:
        kind.delete(sheet=sheet)
    except StockError as error:
        messages.error(request, error.message_html)
        return redirect(f"inventory:{direction}-detail", pk=pk)
    messages.success(request, _("%(doc)s deleted.") % {"doc": sheet.number})
    return redirect(f"inventory:{direction}-list")


# --------------------------------------------------------------------------------------------
# Transfers
# --------------------------------------------------------------------------------------------


@permission("inventory.view_stocktransfer")
@require_GET
def transfer_list_view(request: HttpRequest) -> HttpResponse:
    filterset = TransferFilter(request.GET or None, queryset=selectors.transfers(user=request.user))
    valid = not filterset.is_bound or filterset.is_valid()
    page = (
        selectors.document_page(user=request.user, queryset=filterset.qs, cursor=_cursor(request))
        if valid
        else None
    )
    return respond(
        request,
        "inventory/transfer_list.html",
        {"filterset": filterset, "page": page},
        partial="results",
        status=200 if valid else 422,
    )


@permission("inventory.transfer_stock", "inventory.add_stocktransfer")
@require_http_methods(["GET", "POST"])
def transfer_bin_view(request: HttpRequest) -> HttpResponse:
    """One-step bin-to-bin transfer. The form carries a one-time token (the idempotency key), so
    a double click or a resubmitted page moves the stock once."""
    if request.method == "POST":
        form = BinTransferForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                transfer = services.bin_transfer(
                    goods=data["goods"],
                    from_bin=data["from_bin"],
                    to_bin=data["to_bin"],
                    quantity=data["quantity"],
                    batch=data.get("batch"),
                    note=data.get("note", ""),
                    user=request.user,
                    idempotency_key=f"bin-transfer-{data['token']}",
                )
            except StockError as error:
                form.add_domain_error(error)
            else:
                messages.success(
                    request,
                    _("%(doc)s: %(n)s x %(sku)s moved from %(a)s to %(b)s.")
                    % {
                        "doc": transfer.number,
                        "n": data["quantity"],
                        "sku": data["goods"].sku,
                        "a": data["from_bin"].code,
                        "b": data["to_bin"].code,
                    },
                )
                return redirect("inventory:transfer-bin")
        return respond(request, "inventory/transfer_bin.html", {"form": form}, status=422)
    initial = {"token": new_token()}
    if (warehouse_id := parse_id(request.GET.get("warehouse"))) is not None:
        initial["warehouse"] = warehouse_id
    for name in ("goods", "from_bin"):
        if request.GET.get(name):
            initial[name] = request.GET[name][:64]
    return respond(
        request, "inventory/transfer_bin.html", {"form": BinTransferForm(initial=initial)}
    )


@permission("inventory.transfer_stock", "inventory.add_stocktransfer")
@require_http_methods(["GET", "POST"])
def transfer_create_view(request: HttpRequest) -> HttpResponse:
    form = TransferForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                transfer = services.warehouse_transfer_create(
                    user=request.user, **form.cleaned_data
                )
            except StockError as error:
                form.add_domain_error(error)
            else:
                messages.success(request, _("%(doc)s created.") % {"doc": transfer.number})
                return redirect("inventory:transfer-detail", pk=transfer.pk)
        return respond(request, "inventory/transfer_form.html", {"form": form}, status=422)
    return respond(request, "inventory/transfer_form.html", {"form": form})


def _transfer_context(request: HttpRequest, pk: int, *, line_form=None, receive_form=None) -> dict:
    transfer = selectors.transfer_get(user=request.user, pk=pk)
    if transfer is None:
        raise Http404
    may_transfer = request.user.has_perms(
        ["inventory.transfer_stock", "inventory.change_stocktransfer"]
    )
    draft = transfer.status == StockTransfer.Status.DRAFT
    in_transit = transfer.status == StockTransfer.Status.IN_TRANSIT
    if draft and line_form is None:
        line_form = TransferLineForm(warehouse_id=transfer.from_warehouse_id)
    if in_transit and receive_form is None:
        receive_form = TransferReceiveForm(transfer=transfer)
    return {
        "transfer": transfer,
        "line_form": line_form if draft else None,
        "receive_form": receive_form if in_transit else None,
        "may_transfer": may_transfer,
        "movements": selectors.document_movements(
            user=request.user, document_type=DocumentType.TRANSFER, document_id=transfer.pk
        ),
    }


@permission("inventory.view_stocktransfer")
@require_GET
def transfer_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    return respond(request, "inventory/transfer_detail.html", _transfer_context(request, pk))


@permission("inventory.transfer_stock", "inventory.change_stocktransfer")
@require_POST
def transfer_line_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    transfer = get_object_or_404(StockTransfer, pk=pk, kind=StockTransfer.Kind.WAREHOUSE)
    form = TransferLineForm(request.POST, warehouse_id=transfer.from_warehouse_id)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.warehouse_transfer_line_add(
                transfer=transfer,
                goods=data["goods"],
                from_bin=data["from_bin"],
                quantity=data["quantity"],
                batch=data.get("batch"),
            )
        except StockError as error:
            form.add_domain_error(error)
        else:
            if not request.htmx:
                return redirect("inventory:transfer-detail", pk=pk)
            return respond(
                request,
                "inventory/transfer_detail.html",
                _transfer_context(request, pk),
                partial="lines",
            )
    context = _transfer_context(request, pk, line_form=form)
    return respond(request, "inventory/transfer_detail.html", context, partial="lines", status=422)


@permission("inventory.transfer_stock", "inventory.change_stocktransfer")
@require_POST
def transfer_line_remove_view(request: HttpRequest, pk: int, line: int) -> HttpResponse:
    found = get_object_or_404(StockTransferLine, pk=line, transfer_id=pk)
    try:
        services.warehouse_transfer_line_remove(line=found)
    except StockError as error:
        messages.error(request, error.message_html)
    if request.htmx:
        return respond(
            request,
            "inventory/transfer_detail.html",
            _transfer_context(request, pk),
            partial="lines",
        )
    return redirect("inventory:transfer-detail", pk=pk)


@permission("inventory.transfer_stock", "inventory.change_stocktransfer")
@require_POST
def transfer_ship_view(request: HttpRequest, pk: int) -> HttpResponse:
    get_object_or_404(StockTransfer, pk=pk)
    try:
        transfer = services.warehouse_transfer_ship(transfer_id=pk, user=request.user)
    except StockError as error:
        messages.error(request, error.message_html)
    else:
        messages.success(
            request, _("%(doc)s shipped: the stock is in transit.") % {"doc": transfer.number}
        )
    return redirect("inventory:transfer-detail", pk=pk)


@permission("inventory.transfer_stock", "inventory.change_stocktransfer")
@require_POST
def transfer_receive_view(request: HttpRequest, pk: int) -> HttpResponse:
    transfer = selectors.transfer_get(user=request.user, pk=pk)
    if transfer is None:
        raise Http404
    form = TransferReceiveForm(request.POST, transfer=transfer)
    if form.is_valid():
        data = form.cleaned_data
        received = [
            services.ReceivedLine(
                line_id=line.pk,
                to_bin=data[f"target_{line.pk}"],
                quantity=data[f"received_{line.pk}"],
                reason=data.get(f"reason_{line.pk}", ""),
            )
            for line in transfer.line_rows
        ]
        try:
            services.warehouse_transfer_receive(
                transfer_id=pk, user=request.user, received=received
            )
        except StockError as error:
            form.add_domain_error(error)
        else:
            messages.success(request, _("%(doc)s received.") % {"doc": transfer.number})
            return redirect("inventory:transfer-detail", pk=pk)
    context = _transfer_context(request, pk, receive_form=form)
    return respond(request, "inventory/transfer_detail.html", context, status=422)


@permission("inventory.transfer_stock", "inventory.change_stocktransfer")
@require_POST
def transfer_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    transfer = get_object_or_404(StockTransfer, pk=pk)
    try:
        services.warehouse_transfer_delete(transfer=transfer)
    except StockError as error:
        messages.error(request, error.message_html)
        return redirect("inventory:transfer-detail", pk=pk)
    messages.success(request, _("%(doc)s deleted.") % {"doc": transfer.number})
    return redirect("inventory:transfer-list")


# --------------------------------------------------------------------------------------------
# Counts
# --------------------------------------------------------------------------------------------


@permission("inventory.view_stockcount")
@require_GET
def count_list_view(request: HttpRequest) -> HttpResponse:
    page = selectors.document_page(
        user=request.user, queryset=selectors.counts(user=request.user), cursor=_cursor(request)
    )
    return respond(request, "inventory/count_list.html", {"page": page}, partial="results")


@permission("inventory.add_stockcount")
@require_http_methods(["GET", "POST"])
def count_create_view(request: HttpRequest) -> HttpResponse:
    form = CountForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                count = services.count_create(user=request.user, **form.cleaned_data)
            except StockError as error:
                form.add_domain_error(error)
            else:
                messages.success(request, _("%(doc)s created.") % {"doc": count.number})
                return redirect("inventory:count-detail", pk=count.pk)
        return respond(request, "inventory/count_form.html", {"form": form}, status=422)
    return respond(request, "inventory/count_form.html", {"form": form})


def _count_context(request: HttpRequest, pk: int, *, line_form=None) -> dict:
    count = selectors.count_get(user=request.user, pk=pk)
    if count is None:
        raise Http404
    if count.is_draft and line_form is None:
        line_form = CountLineForm(warehouse_id=count.warehouse_id)
    return {
        "count": count,
        "line_form": line_form if count.is_draft else None,
        "can_edit": count.is_draft and request.user.has_perm("inventory.change_stockcount"),
        "can_post": count.is_draft and request.user.has_perm("inventory.adjust_stock"),
        "can_delete": count.is_draft and request.user.has_perm("inventory.delete_stockcount"),
        # a blind count's draft hides what the ledger expects from those who may not unblind it
        "hide_expected": count.is_draft
        and count.is_blind
        and not request.user.has_perm("inventory.change_blind_mode"),
    }


@permission("inventory.view_stockcount")
@require_GET
def count_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    return respond(request, "inventory/count_detail.html", _count_context(request, pk))


@permission("inventory.change_stockcount")
@require_POST
def count_line_set_view(request: HttpRequest, pk: int) -> HttpResponse:
    count = get_object_or_404(selectors.counts(user=request.user), pk=pk)
    form = CountLineForm(request.POST, warehouse_id=count.warehouse_id)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.count_line_set(
                count=count,
                goods=data["goods"],
                bin=data["bin"],
                counted=data["counted"],
                batch=data.get("batch"),
            )
        except StockError as error:
            form.add_domain_error(error)
        else:
            if not request.htmx:
                return redirect("inventory:count-detail", pk=pk)
            return respond(
                request, "inventory/count_detail.html", _count_context(request, pk), partial="lines"
            )
    context = _count_context(request, pk, line_form=form)
    return respond(request, "inventory/count_detail.html", context, partial="lines", status=422)


@permission("inventory.change_stockcount")
@require_POST
def count_line_remove_view(request: HttpRequest, pk: int, line: int) -> HttpResponse:
    found = get_object_or_404(StockCountLine, pk=line, count_id=pk)
    try:
        services.count_line_remove(line=found)
    except StockError as error:
        messages.error(request, error.message_html)
    if request.htmx:
        return respond(
            request, "inventory/count_detail.html", _count_context(request, pk), partial="lines"
        )
    return redirect("inventory:count-detail", pk=pk)


@permission("inventory.adjust_stock")
@require_POST
def count_post_view(request: HttpRequest, pk: int) -> HttpResponse:
    get_object_or_404(selectors.counts(user=request.user), pk=pk)
    try:
        count = services.count_post(count_id=pk, user=request.user)
    except StockError as error:
        messages.error(request, error.message_html)
    else:
        messages.success(request, _("%(doc)s posted.") % {"doc": count.number})
    return redirect("inventory:count-detail", pk=pk)


@permission("inventory.delete_stockcount")
@require_POST
def count_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    count = get_object_or_404(selectors.counts(user=request.user), pk=pk)
    try:
        services.count_delete(count=count)
    except StockError as error:
        messages.error(request, error.message_html)
        return redirect("inventory:count-detail", pk=pk)
    messages.success(request, _("%(doc)s deleted.") % {"doc": count.number})
    return redirect("inventory:count-list")
