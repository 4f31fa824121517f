"""What a store's POS or ERP exchanges with the warehouse about its stores: the daily sales
feed (``store-sales``) and store returns (``store-returns``), filed by the store and received by
the warehouse.

Reads go through ``allocation.selectors`` (scoped by ``Store.objects.for_user``: a store
manager's token sees his own stores' rows only, another store's return is a 404); writes
through the allocation services the screens and the sales import call, with the screens'
permissions. Every POST accepts ``Idempotency-Key``."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from allocation import selectors
from allocation.exceptions import SalesRowsInvalid
from allocation.models import StoreReturn, StoreSales
from allocation.services import returns, sales
from api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from api.v1 import allocation_serializers as s
from api.v1.base import ApiViewSet, filter_parameters, filtered
from api.v1.filters import StoreReturnFilter, StoreSalesFilter
from api.v1.stock import CURSOR, LIMIT
from warehouses.models import Bin

SALES_EXAMPLE = OpenApiExample(
    "Yesterday at SYD01",
    request_only=True,
    value={
        "rows": [
            {
                "store": "SYD01",
                "sku": "LIP-001",
                "day": "2026-11-29",
                "units_sold": 12,
                "on_hand": 30,
            },
            {"store": "SYD01", "sku": "TEA-02", "day": "2026-11-29", "units_sold": 0},
        ]
    },
)
SALES_RESULT_EXAMPLE = OpenApiExample("Two rows", response_only=True, value={"written": 2})
RETURN_EXAMPLE = OpenApiExample(
    "Two damaged",
    request_only=True,
    value={
        "order": 12,
        "lines": [{"line": 31, "quantity": 2}],
        "reason": "damaged",
        "note": "Crushed in transit",
    },
)
RETURN_RECEIVE_EXAMPLE = OpenApiExample("Into bin 8", request_only=True, value={"bin": 8})


def _messages(detail) -> dict[str, list[str]]:
    """A refused row's serializer detail as ``{field: [messages]}``."""
    if isinstance(detail, dict):
        return {
            str(field): [str(m) for m in (msgs if isinstance(msgs, list) else [msgs])]
            for field, msgs in detail.items()
        }
    return {
        "non_field_errors": [str(m) for m in (detail if isinstance(detail, list) else [detail])]
    }


@extend_schema_view(
    list=extend_schema(
        summary="List store sales",
        description="Daily sales (and the store's own on-hand, when sent) of the stores the "
        "token's user may see: every store for a warehouse manager, his own for a store "
        "manager. Newest first.",
        parameters=filter_parameters(StoreSalesFilter, CURSOR, LIMIT),
    ),
    create=extend_schema(
        summary="Send store sales",
        description="A batch of 1 to "
        f"{sales.MAX_BATCH} rows, one per store, goods (SKU) and day, with the units sold "
        "and optionally the store's on-hand; the same rules as the store sales import. All "
        "or nothing: any bad row (an unknown store or SKU, a store the user does not run, a "
        "day in the future or before 2000, a number that is not a whole 0 to 10,000,000, the "
        "same store, SKU and day twice) is 400 `invalid` with every bad row named in "
        "`fields` (`rows.<index>.<field>`) and nothing is written. A store, goods and day "
        "sent again replaces its figures (never a second row). Accepts `Idempotency-Key`.",
        request=s.StoreSalesBatchInput,
        responses={200: s.StoreSalesBatchResult},
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[SALES_EXAMPLE, SALES_RESULT_EXAMPLE],
    ),
)
class StoreSalesViewSet(ApiViewSet):
    queryset = StoreSales.objects.none()
    serializer_class = s.StoreSalesSerializer
    required_perms = {
        "list": ("allocation.view_storesales",),
        "create": ("allocation.add_storesales",),
    }

    def list(self, request):
        queryset = filtered(StoreSalesFilter, selectors.store_sales_list(request.user), request).qs
        return self.paged(queryset, s.StoreSalesSerializer)

    def create(self, request):
        parsed = self.parse(s.StoreSalesBatchInput)["rows"]
        bad = {
            i: _messages(row.detail) for i, row in enumerate(parsed) if isinstance(row, s.BadRow)
        }
        rows = [sales.SalesRow(**row) for row in parsed if not isinstance(row, s.BadRow)]
        if bad:
            # every bad row at once: the rules' refusals of the well-formed rows too
            good = {i: sales.SalesRow(**row) for i, row in enumerate(parsed) if i not in bad}
            refused = sales.store_sales_check(user=request.user, rows=good)
            raise SalesRowsInvalid(dict(sorted({**refused, **bad}.items())))

        def run() -> Response:
            written = sales.store_sales_bulk_set(user=request.user, rows=rows)
            return Response({"written": written})

        return idempotent(request, run)


@extend_schema_view(
    list=extend_schema(
        summary="List store returns",
        description="Returns of the stores the token's user may see, newest first, with the "
        "units sent back.",
        parameters=filter_parameters(StoreReturnFilter, CURSOR, LIMIT),
    ),
    retrieve=extend_schema(
        summary="One store return",
        description="With its lines (order line, goods, units), who filed and received it "
        "and the inbound sheet that received it. 404 for another store's return.",
        responses={200: s.StoreReturnDetailSerializer},
    ),
    create=extend_schema(
        summary="File a store return",
        description="Goods a store sends back against one of its received replenishment "
        "orders: per order line the units (at most what arrived, less what earlier returns "
        "took; lines at 0 are left out), a reason and a note. 404 for an order of another "
        "store; 409 `invalid_state` for an order not received; 409 `not_allowed` for a line "
        "of another order; 400 `invalid_quantity` for too many units or none. Accepts "
        "`Idempotency-Key`.",
        request=s.StoreReturnInput,
        responses={201: s.StoreReturnDetailSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[RETURN_EXAMPLE],
    ),
)
class StoreReturnViewSet(ApiViewSet):
    queryset = StoreReturn.objects.none()
    serializer_class = s.StoreReturnSerializer
    required_perms = {
        "list": ("allocation.view_storereturn",),
        "retrieve": ("allocation.view_storereturn",),
        "create": ("allocation.add_storereturn",),
        "receive": ("allocation.receive_return",),
    }

    def _return(self) -> StoreReturn:
        found = selectors.return_get(self.request.user, self.object_id())
        if found is None:
            raise Http404
        return found

    def _out(self, pk: int, code=status.HTTP_200_OK) -> Response:
        found = selectors.return_get(self.request.user, pk)
        return Response(s.StoreReturnDetailSerializer(found).data, status=code)

    def list(self, request):
        queryset = filtered(StoreReturnFilter, selectors.return_list(request.user), request).qs
        return self.paged(queryset, s.StoreReturnSerializer)

    def retrieve(self, request, pk=None):
        return Response(s.StoreReturnDetailSerializer(self._return()).data)

    def create(self, request):
        data = self.parse(s.StoreReturnInput)
        order = selectors.order_get(request.user, data["order"])
        if order is None:
            raise Http404

        def run() -> Response:
            filed = returns.return_file(
                user=request.user,
                order_id=order.pk,
                lines={row["line"]: row["quantity"] for row in data["lines"]},
                reason=data["reason"],
                note=data["note"],
            )
            return self._out(filed.pk, status.HTTP_201_CREATED)

        return idempotent(request, run)

    @extend_schema(
        summary="Receive a store return",
        description="The warehouse receives a filed return into a bin of the warehouse the "
        "order left from: one inbound sales-return sheet, posted (each line keeps the batch "
        "it left with; the auto-freeze rules for returns apply in the same transaction). "
        "400 for a bin that is not an active bin of that warehouse; 409 `invalid_state` for "
        "a return already received. Accepts `Idempotency-Key`.",
        request=s.ReturnReceiveInput,
        responses={200: s.StoreReturnDetailSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[RETURN_RECEIVE_EXAMPLE],
    )
    @action(detail=True, methods=["post"])
    def receive(self, request, pk=None):
        found = self._return()
        bin_id = self.parse(s.ReturnReceiveInput)["bin"]
        into = Bin.objects.filter(
            pk=bin_id, warehouse_id=found.order.warehouse_id, is_active=True
        ).first()
        if into is None:
            raise ValidationError(
                {"bin": [_("No active bin with this id in the return's warehouse.")]}
            )

        def run() -> Response:
            returns.return_receive(return_id=found.pk, bin=into, user=request.user)
            return self._out(found.pk)

        return idempotent(request, run)
