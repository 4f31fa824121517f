"""Stock: balances (the stock query), movements (the ledger), inbound and outbound sheets,
transfers and counts. Every read goes through ``inventory.selectors.stock`` with the user and
the screens' FilterSets; every write through ``inventory.services.stock`` (which posts through
the ledger). Postings accept ``Idempotency-Key``."""

from __future__ import annotations

from django.db import transaction
from django.http import Http404
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from api.pagination import keyset_response, page_limit
from api.v1 import serializers as s
from api.v1.base import ApiView, ApiViewSet, filter_parameters, filtered
from inventory.filters_stock import MovementFilter, SheetFilter, StockFilter, TransferFilter
from inventory.models import (
    InboundLine,
    InboundSheet,
    OutboundLine,
    OutboundSheet,
    StockCount,
    StockCountLine,
    StockTransfer,
    StockTransferLine,
)
from inventory.selectors import stock as selectors
from inventory.services import stock as services
from wms.http import parse_id

CURSOR = OpenApiParameter("cursor", str, description="The `next` link's cursor.")
LIMIT = OpenApiParameter(
    "limit",
    {"type": "integer", "minimum": 1, "maximum": 500},
    description="Rows per page, 1-500 (default 50).",
)


@extend_schema_view(
    get=extend_schema(
        summary="Stock balances",
        description="The stock query (库存查询): one row per goods, bin and batch (`group=bin`), "
        "or summed per `goods`, `warehouse` or `batch`. Same filters and order as the screen "
        "(SKU, then the group key); cursor-paginated with a constant number of queries per "
        "page. `available = on_hand - frozen - reserved`.",
        parameters=filter_parameters(StockFilter, CURSOR, LIMIT),
        responses={200: s.BalancePageSerializer},
        examples=[
            OpenApiExample(
                "One row",
                response_only=True,
                value={
                    "next": "http://wms.example/api/v1/balances/?cursor=WyJMSVAtMDAxIiwxMl0",
                    "previous": None,
                    "results": [
                        {
                            "balance_id": 12,
                            "goods_id": 3,
                            "sku": "LIP-001",
                            "name": "Velvet lipstick, ruby",
                            "unit": "pcs",
                            "warehouse_code": "SYD",
                            "bin_id": 40,
                            "bin_code": "A-01-01",
                            "zone_code": "PICK",
                            "batch_no": "2026-11-A",
                            "expiry_date": "2028-11-01",
                            "on_hand": 120,
                            "frozen": 20,
                            "reserved": 0,
                            "available": 100,
                            "in_transit": 0,
                        }
                    ],
                },
            )
        ],
    )
)
class BalanceView(ApiView):
    required_perms = {"get": ("inventory.view_stockbalance",)}

    def get(self, request):
        limit = page_limit(request)
        filterset = filtered(StockFilter, selectors.stock_base(user=request.user), request)
        page = selectors.stock_page(
            user=request.user,
            queryset=filterset.qs,
            group=filterset.grouping,
            cursor=request.query_params.get("cursor") or None,
            limit=limit,
            frozen_groups_only=filterset.wants_frozen_groups,
        )
        return keyset_response(request, page, s.BalanceRowSerializer(page.rows, many=True).data)


@extend_schema_view(
    get=extend_schema(
        summary="Stock movements",
        description="The ledger (出入库流水), newest first, read-only (movements are never "
        "changed; a correction is a new movement). The ledger screen's filters.",
        parameters=filter_parameters(MovementFilter, CURSOR, LIMIT),
        responses={200: s.MovementPageSerializer},
    )
)
class MovementView(ApiView):
    required_perms = {"get": ("inventory.view_stockmovement",)}

    def get(self, request):
        limit = page_limit(request)
        filterset = filtered(MovementFilter, selectors.movement_base(user=request.user), request)
        page = selectors.movement_page(
            user=request.user,
            queryset=filterset.qs,
            cursor=request.query_params.get("cursor") or None,
            limit=limit,
        )
        return keyset_response(request, page, s.MovementSerializer(page.rows, many=True).data)


# --------------------------------------------------------------------------------------------
# Sheets
# --------------------------------------------------------------------------------------------


class _SheetViewSet(ApiViewSet):
    direction = ""
    model = InboundSheet
    line_model = InboundLine
    output = s.InboundSheetSerializer
    create_input = s.InboundSheetInput
    line_input = s.InboundLineInput

    @classmethod
    def perms(cls, direction: str) -> dict[str, tuple[str, ...]]:
        view = f"inventory.view_{direction}sheet"
        return {
            "list": (view,),
            "retrieve": (view,),
            "create": (f"inventory.add_{direction}sheet",),
            "lines": (f"inventory.change_{direction}sheet",),
            "line_remove": (f"inventory.change_{direction}sheet",),
            "post": (view, "inventory.post_sheet"),
            "reverse": (view, "inventory.post_sheet"),
            "destroy": (f"inventory.delete_{direction}sheet",),
            "one_shot": (f"inventory.add_{direction}sheet", "inventory.post_sheet"),
        }

    def sheets(self):
        if self.model is InboundSheet:
            return selectors.inbound_sheets(user=self.request.user)
        return selectors.outbound_sheets(user=self.request.user)

    def _sheet(self, pk: int | None = None):
        sheet = self.sheets().filter(pk=pk or self.object_id()).first()
        if sheet is None:
            raise Http404
        return sheet

    def _out(self, pk: int, code=status.HTTP_200_OK) -> Response:
        sheet = self.sheets().prefetch_related("lines").get(pk=pk)
        return Response(self.output(sheet).data, status=code)

    def list(self, request):
        filterset = filtered(
            SheetFilter, self.sheets(), request, type_choices=self.model.Type.choices
        )
        return self.paged(filterset.qs.prefetch_related("lines"), self.output)

    def retrieve(self, request, pk=None):
        return self._out(self._sheet().pk)

    def create(self, request):
        data = self.parse(self.create_input)
        create = (
            services.inbound_sheet_create
            if self.model is InboundSheet
            else services.outbound_sheet_create
        )
        sheet = create(user=request.user, **data)
        return self._out(sheet.pk, status.HTTP_201_CREATED)

    def destroy(self, request, pk=None):
        delete = (
            services.inbound_sheet_delete
            if self.model is InboundSheet
            else services.outbound_sheet_delete
        )
        delete(sheet=self._sheet())
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _add_line(self, sheet, data: dict) -> None:
        if self.model is InboundSheet:
            services.inbound_line_add(sheet=sheet, **data)
        else:
            services.outbound_line_add(sheet=sheet, **data)

    @action(detail=True, methods=["post"])
    def lines(self, request, pk=None):
        sheet = self._sheet()
        self._add_line(sheet, self.parse(self.line_input))
        return self._out(sheet.pk, status.HTTP_201_CREATED)

    @action(detail=True, methods=["delete"], url_path="lines/<int:line_id>")
    def line_remove(self, request, pk=None, line_id=None):
        sheet = self._sheet()
        line = self.line_model.objects.filter(pk=parse_id(line_id) or 0, sheet_id=sheet.pk).first()
        if line is None:
            raise Http404
        remove = (
            services.inbound_line_remove
            if self.model is InboundSheet
            else services.outbound_line_remove
        )
        remove(line=line)
        return self._out(sheet.pk)

    @action(detail=True, methods=["post"])
    def post(self, request, pk=None):
        sheet = self._sheet()
        post = (
            services.inbound_sheet_post
            if self.model is InboundSheet
            else services.outbound_sheet_post
        )

        def run() -> Response:
            post(sheet_id=sheet.pk, user=request.user)
            return self._out(sheet.pk)

        return idempotent(request, run)

    @action(detail=True, methods=["post"])
    def reverse(self, request, pk=None):
        sheet = self._sheet()
        reason = self.parse(s.ReasonInput)["reason"]
        reverse = (
            services.inbound_sheet_reverse
            if self.model is InboundSheet
            else services.outbound_sheet_reverse
        )

        def run() -> Response:
            reversal = reverse(sheet_id=sheet.pk, user=request.user, reason=reason)
            return self._out(reversal.pk, status.HTTP_201_CREATED)

        return idempotent(request, run)


def _sheet_schema(direction: str, output, create_input, line_input, example_line: dict):
    label = "inbound" if direction == "inbound" else "outbound"
    return extend_schema_view(
        list=extend_schema(
            summary=f"List {label} sheets",
            description=f"{label.capitalize()} sheets newest first, with their lines; the "
            "sheet list's filters (number, warehouse, type, status, reference).",
            parameters=filter_parameters(SheetFilter, CURSOR, LIMIT),
        ),
        retrieve=extend_schema(
            summary=f"One {label} sheet", description="With its lines.", responses=output
        ),
        create=extend_schema(
            summary=f"Create a draft {label} sheet",
            description="A draft: add lines, then post it.",
            request=create_input,
            responses={201: output},
            examples=[
                OpenApiExample(
                    "Draft",
                    value={
                        "warehouse": 1,
                        "type": "purchase" if direction == "inbound" else "order_shipment",
                        "reference": "PO-7781",
                    },
                    request_only=True,
                )
            ],
        ),
        destroy=extend_schema(
            summary=f"Delete a draft {label} sheet",
            description="Posted sheets are never deleted: reverse them (409).",
        ),
        lines=extend_schema(
            summary="Add a line",
            description="To a draft sheet. Quantities are whole numbers above zero.",
            request=line_input,
            responses={201: output},
            examples=[OpenApiExample("Line", value=example_line, request_only=True)],
        ),
        line_remove=extend_schema(
            summary="Remove a line",
            description="From a draft sheet; answers the sheet.",
            request=None,
            responses={200: output},
        ),
        post=extend_schema(
            summary=f"Post the {label} sheet",
            description="Posts every line through the ledger in one transaction. A second "
            "post is 409 `already_posted`. Accepts `Idempotency-Key`.",
            request=None,
            responses=output,
            parameters=[IDEMPOTENCY_PARAMETER],
        ),
        reverse=extend_schema(
            summary=f"Reverse the posted {label} sheet",
            description="A new posted sheet undoing this one; returns the reversal. Accepts "
            "`Idempotency-Key`.",
            request=s.ReasonInput,
            responses={201: output},
            parameters=[IDEMPOTENCY_PARAMETER],
            examples=[OpenApiExample("Reason", value={"reason": "Keyed twice"}, request_only=True)],
        ),
    )


@_sheet_schema(
    "inbound",
    s.InboundSheetSerializer,
    s.InboundSheetInput,
    s.InboundLineInput,
    {"goods": 3, "bin": 40, "quantity": 120, "batch_no": "2026-11-A"},
)
class InboundSheetViewSet(_SheetViewSet):
    direction = "inbound"
    queryset = InboundSheet.objects.none()
    model = InboundSheet
    line_model = InboundLine
    output = s.InboundSheetSerializer
    create_input = s.InboundSheetInput
    line_input = s.InboundLineInput
    serializer_class = s.InboundSheetSerializer
    required_perms = _SheetViewSet.perms("inbound")


@_sheet_schema(
    "outbound",
    s.OutboundSheetSerializer,
    s.OutboundSheetInput,
    s.OutboundLineInput,
    {"goods": 3, "quantity": 2},
)
class OutboundSheetViewSet(_SheetViewSet):
    direction = "outbound"
    queryset = OutboundSheet.objects.none()
    model = OutboundSheet
    line_model = OutboundLine
    output = s.OutboundSheetSerializer
    create_input = s.OutboundSheetInput
    line_input = s.OutboundLineInput
    serializer_class = s.OutboundSheetSerializer
    required_perms = _SheetViewSet.perms("outbound")


class _OneShotViewSet(ApiViewSet):
    """A whole sheet in one request: created, lines added, posted; one transaction."""

    model = InboundSheet
    output = s.InboundSheetSerializer

    def _out(self, pk: int, code=status.HTTP_200_OK) -> Response:
        queryset = (
            selectors.inbound_sheets(user=self.request.user)
            if self.model is InboundSheet
            else selectors.outbound_sheets(user=self.request.user)
        )
        return Response(
            self.output(queryset.prefetch_related("lines").get(pk=pk)).data, status=code
        )

    def _add_line(self, sheet, data: dict) -> None:
        if self.model is InboundSheet:
            services.inbound_line_add(sheet=sheet, **data)
        else:
            services.outbound_line_add(sheet=sheet, **data)

    def one_shot(self, request, input_class):
        data = self.parse(input_class)
        lines = data.pop("lines")

        def run() -> Response:
            create = (
                services.inbound_sheet_create
                if self.model is InboundSheet
                else services.outbound_sheet_create
            )
            post = (
                services.inbound_sheet_post
                if self.model is InboundSheet
                else services.outbound_sheet_post
            )
            with transaction.atomic():
                sheet = create(user=request.user, **data)
                for line in lines:
                    self._add_line(sheet, line)
                post(sheet_id=sheet.pk, user=request.user)
            return self._out(sheet.pk, status.HTTP_201_CREATED)

        return idempotent(request, run)


class ReceiptViewSet(_OneShotViewSet):
    model = InboundSheet
    output = s.InboundSheetSerializer
    serializer_class = s.InboundSheetSerializer
    required_perms = {"create": _SheetViewSet.perms("inbound")["one_shot"]}

    @extend_schema(
        summary="Receive stock (one request)",
        description="Creates an inbound sheet with its lines and posts it, in one transaction: "
        "all or nothing. Accepts `Idempotency-Key`.",
        request=s.ReceiptInput,
        responses={201: s.InboundSheetSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[
            OpenApiExample(
                "Purchase receipt",
                value={
                    "warehouse": 1,
                    "type": "purchase",
                    "reference": "PO-7781",
                    "lines": [{"goods": 3, "bin": 40, "quantity": 120, "batch_no": "2026-11-A"}],
                },
                request_only=True,
            )
        ],
    )
    def create(self, request):
        return self.one_shot(request, s.ReceiptInput)


class ShipmentViewSet(_OneShotViewSet):
    model = OutboundSheet
    output = s.OutboundSheetSerializer
    serializer_class = s.OutboundSheetSerializer
    required_perms = {"create": _SheetViewSet.perms("outbound")["one_shot"]}

    @extend_schema(
        summary="Ship stock (one request)",
        description="Creates an outbound sheet with its lines and posts it, in one transaction "
        "(FEFO picks where no bin or batch is named). 409 `insufficient_stock` with nothing "
        "written when short. Accepts `Idempotency-Key`.",
        request=s.ShipmentInput,
        responses={201: s.OutboundSheetSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[
            OpenApiExample(
                "Order shipment",
                value={
                    "warehouse": 1,
                    "type": "order_shipment",
                    "reference": "SO-100231",
                    "lines": [{"goods": 3, "quantity": 2}],
                },
                request_only=True,
            )
        ],
    )
    def create(self, request):
        return self.one_shot(request, s.ShipmentInput)


# --------------------------------------------------------------------------------------------
# Transfers and counts
# --------------------------------------------------------------------------------------------

_TRANSFER_WORK = ("inventory.transfer_stock", "inventory.change_stocktransfer")


@extend_schema_view(
    list=extend_schema(
        summary="List transfers",
        description="Bin and warehouse transfers, newest first; the transfer list's filters.",
        parameters=filter_parameters(TransferFilter, CURSOR, LIMIT),
    ),
    retrieve=extend_schema(summary="One transfer", description="With its lines."),
    destroy=extend_schema(
        summary="Delete a draft transfer",
        description="Only a draft; a shipped or received transfer stays (409).",
    ),
    create=extend_schema(
        summary="Create a draft warehouse transfer",
        description="Add lines, ship (stock goes in transit), then receive at the destination.",
        request=s.WarehouseTransferInput,
        responses={201: s.TransferSerializer},
        examples=[
            OpenApiExample(
                "Draft", value={"from_warehouse": 1, "to_warehouse": 2}, request_only=True
            )
        ],
    ),
)
class TransferViewSet(ApiViewSet):
    queryset = StockTransfer.objects.none()
    serializer_class = s.TransferSerializer
    required_perms = {
        "list": ("inventory.view_stocktransfer",),
        "retrieve": ("inventory.view_stocktransfer",),
        "create": ("inventory.transfer_stock", "inventory.add_stocktransfer"),
        "bin": ("inventory.transfer_stock", "inventory.add_stocktransfer"),
        "lines": _TRANSFER_WORK,
        "line_remove": _TRANSFER_WORK,
        "ship": _TRANSFER_WORK,
        "receive": _TRANSFER_WORK,
        "destroy": _TRANSFER_WORK,
    }

    def _transfer(self):
        transfer = selectors.transfers(user=self.request.user).filter(pk=self.object_id()).first()
        if transfer is None:
            raise Http404
        return transfer

    def _out(self, pk: int, code=status.HTTP_200_OK) -> Response:
        transfer = selectors.transfers(user=self.request.user).prefetch_related("lines").get(pk=pk)
        return Response(s.TransferSerializer(transfer).data, status=code)

    def list(self, request):
        filterset = filtered(TransferFilter, selectors.transfers(user=request.user), request)
        return self.paged(filterset.qs.prefetch_related("lines"), s.TransferSerializer)

    def retrieve(self, request, pk=None):
        return self._out(self._transfer().pk)

    def create(self, request):
        transfer = services.warehouse_transfer_create(
            user=request.user, **self.parse(s.WarehouseTransferInput)
        )
        return self._out(transfer.pk, status.HTTP_201_CREATED)

    def destroy(self, request, pk=None):
        services.warehouse_transfer_delete(transfer=self._transfer())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Move stock between bins",
        description="Bin to bin in one warehouse, in one step (a done transfer). Accepts "
        "`Idempotency-Key`.",
        request=s.BinTransferInput,
        responses={201: s.TransferSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[
            OpenApiExample(
                "Move",
                value={"goods": 3, "from_bin": 40, "to_bin": 41, "quantity": 5},
                request_only=True,
            )
        ],
    )
    @action(detail=False, methods=["post"])
    def bin(self, request):
        data = self.parse(s.BinTransferInput)

        def run() -> Response:
            transfer = services.bin_transfer(user=request.user, **data)
            return self._out(transfer.pk, status.HTTP_201_CREATED)

        return idempotent(request, run)

    @extend_schema(
        summary="Add a transfer line",
        description="To a draft warehouse transfer.",
        request=s.TransferLineInput,
        responses={201: s.TransferSerializer},
        examples=[
            OpenApiExample(
                "Line", value={"goods": 3, "from_bin": 40, "quantity": 10}, request_only=True
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def lines(self, request, pk=None):
        transfer = self._transfer()
        services.warehouse_transfer_line_add(transfer=transfer, **self.parse(s.TransferLineInput))
        return self._out(transfer.pk, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Remove a transfer line",
        description="From a draft; answers the transfer.",
        request=None,
        responses={200: s.TransferSerializer},
    )
    @action(detail=True, methods=["delete"], url_path="lines/<int:line_id>")
    def line_remove(self, request, pk=None, line_id=None):
        transfer = self._transfer()
        line = StockTransferLine.objects.filter(
            pk=parse_id(line_id) or 0, transfer_id=transfer.pk
        ).first()
        if line is None:
            raise Http404
        services.warehouse_transfer_line_remove(line=line)
        return self._out(transfer.pk)

    @extend_schema(
        summary="Ship the transfer",
        description="The stock leaves the source bins and is in transit. Accepts "
        "`Idempotency-Key`.",
        request=None,
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["post"])
    def ship(self, request, pk=None):
        transfer = self._transfer()

        def run() -> Response:
            services.warehouse_transfer_ship(transfer_id=transfer.pk, user=request.user)
            return self._out(transfer.pk)

        return idempotent(request, run)

    @extend_schema(
        summary="Receive the transfer",
        description="What arrived per line, into which bin; less than shipped needs a reason. "
        "Accepts `Idempotency-Key`.",
        request=s.TransferReceiveInput,
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[
            OpenApiExample(
                "All arrived",
                value={"lines": [{"line": 7, "to_bin": 90, "quantity": 10}]},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def receive(self, request, pk=None):
        transfer = self._transfer()
        lines = self.parse(s.TransferReceiveInput)["lines"]
        received = [
            services.ReceivedLine(
                line_id=line["line"],
                to_bin=line["to_bin"],
                quantity=line["quantity"],
                reason=line["reason"],
            )
            for line in lines
        ]

        def run() -> Response:
            services.warehouse_transfer_receive(
                transfer_id=transfer.pk, user=request.user, received=received
            )
            return self._out(transfer.pk)

        return idempotent(request, run)


@extend_schema_view(
    list=extend_schema(
        summary="List counts",
        description="Stock counts newest first.",
        parameters=[CURSOR, LIMIT],
    ),
    retrieve=extend_schema(summary="One count", description="With its lines."),
    create=extend_schema(
        summary="Create a draft count",
        description="Set the counted quantities, then post (managers: adjust_stock).",
        request=s.CountInput,
        responses={201: s.CountSerializer},
        examples=[
            OpenApiExample(
                "Count", value={"warehouse": 1, "reason": "Monthly count"}, request_only=True
            )
        ],
    ),
    destroy=extend_schema(summary="Delete a draft count", description="Posted counts stay."),
)
class CountViewSet(ApiViewSet):
    queryset = StockCount.objects.none()
    serializer_class = s.CountSerializer
    required_perms = {
        "list": ("inventory.view_stockcount",),
        "retrieve": ("inventory.view_stockcount",),
        "create": ("inventory.add_stockcount",),
        "lines": ("inventory.change_stockcount",),
        "line_remove": ("inventory.change_stockcount",),
        "post": ("inventory.adjust_stock",),
        "destroy": ("inventory.delete_stockcount",),
    }

    def _count(self) -> StockCount:
        count = selectors.counts(user=self.request.user).filter(pk=self.object_id()).first()
        if count is None:
            raise Http404
        return count

    def _out(self, pk: int, code=status.HTTP_200_OK) -> Response:
        count = selectors.counts(user=self.request.user).prefetch_related("lines").get(pk=pk)
        return Response(s.CountSerializer(count).data, status=code)

    def list(self, request):
        return self.paged(
            selectors.counts(user=request.user).prefetch_related("lines"), s.CountSerializer
        )

    def retrieve(self, request, pk=None):
        return self._out(self._count().pk)

    def create(self, request):
        count = services.count_create(user=request.user, **self.parse(s.CountInput))
        return self._out(count.pk, status.HTTP_201_CREATED)

    def destroy(self, request, pk=None):
        services.count_delete(count=self._count())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Set a counted quantity",
        description="For one goods, bin and batch of a draft count (zero is allowed).",
        request=s.CountLineInput,
        responses={201: s.CountSerializer},
        examples=[
            OpenApiExample("Line", value={"goods": 3, "bin": 40, "counted": 118}, request_only=True)
        ],
    )
    @action(detail=True, methods=["post"])
    def lines(self, request, pk=None):
        count = self._count()
        services.count_line_set(count=count, **self.parse(s.CountLineInput))
        return self._out(count.pk, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Remove a count line",
        description="From a draft; answers the count.",
        request=None,
        responses={200: s.CountSerializer},
    )
    @action(detail=True, methods=["delete"], url_path="lines/<int:line_id>")
    def line_remove(self, request, pk=None, line_id=None):
        count = self._count()
        line = StockCountLine.objects.filter(pk=parse_id(line_id) or 0, count_id=count.pk).first()
        if line is None:
            raise Http404
        services.count_line_remove(line=line)
        return self._out(count.pk)

    @extend_schema(
        summary="Post the count",
        description="Adjusts each balance to the counted quantity (gain or loss movements). "
        "Accepts `Idempotency-Key`.",
        request=None,
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["post"])
    def post(self, request, pk=None):
        count = self._count()

        def run() -> Response:
            services.count_post(count_id=count.pk, user=request.user)
            return self._out(count.pk)

        return idempotent(request, run)
