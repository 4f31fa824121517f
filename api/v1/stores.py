"""What a store's POS or ERP exchanges with the warehouse about its stores: the daily sales
feed (``store-sales``).

Reads go through ``allocation.selectors`` (scoped by ``Store.objects.for_user``: a store
manager's token sees his own stores' rows only); writes through the allocation services the
screens and the sales import call, with the screens' permissions. Every POST accepts
``Idempotency-Key``."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework.response import Response

from allocation import selectors
from allocation.exceptions import SalesRowsInvalid
from allocation.models import StoreSales
from allocation.services import sales
from api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from api.v1 import allocation_serializers as s
from api.v1.base import ApiViewSet, filter_parameters, filtered
from api.v1.filters import StoreSalesFilter
from api.v1.stock import CURSOR, LIMIT

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
