"""Store allocation: stores, grab windows, grab requests, replenishment orders.

Reads go through ``allocation.selectors`` (scoped by ``Store.objects.for_user``: a store
manager's token asking for another store's row gets 404); writes through the allocation
services the screens call, with the screens' permissions. Grab requests and every order
transition accept ``Idempotency-Key``."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from allocation import selectors
from allocation.models import GrabWindow, ReplenishmentOrder, Store
from allocation.services import close, grabs, orders, windows
from api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from api.v1 import allocation_serializers as s
from api.v1.base import ApiViewSet, filter_parameters, filtered
from api.v1.filters import GrabRequestFilter, ReplenishmentOrderFilter, StoreFilter, WindowFilter
from api.v1.stock import CURSOR, LIMIT

STORE_EXAMPLE = OpenApiExample(
    "Store",
    response_only=True,
    value={
        "id": 4,
        "code": "SYD01",
        "name": "Sydney CBD",
        "address": "1 George St",
        "contact_name": "Alice",
        "phone": "+61 2 5550 0000",
        "opening_hours": "9-18",
        "group": "NSW",
        "fixed_rank": None,
        "is_active": True,
    },
)
WINDOW_EXAMPLE = OpenApiExample(
    "Monday tea",
    request_only=True,
    value={
        "name": "Monday tea",
        "warehouse": 1,
        "policy": 1,
        "mode": "first_come",
        "opens_at": "2026-12-01T09:00:00+11:00",
        "closes_at": "2026-12-01T09:30:00+11:00",
        "scope": "all",
        "offers": [{"goods": 3, "quantity": 100}],
    },
)
GRAB_EXAMPLE = OpenApiExample(
    "Grab 12 units", request_only=True, value={"window": 7, "store": 4, "goods": 3, "quantity": 12}
)
RECEIVE_EXAMPLE = OpenApiExample(
    "Two short, one damaged",
    request_only=True,
    value={"lines": [{"line": 31, "received": 10, "damaged": 1}], "note": "Box torn"},
)


@extend_schema_view(
    list=extend_schema(
        summary="List stores",
        description="The stores the token's user may see: every store for a warehouse "
        "manager, his own for a store manager.",
        parameters=filter_parameters(StoreFilter, CURSOR, LIMIT),
    ),
    retrieve=extend_schema(
        summary="One store",
        description="404 for a store outside the user's scope.",
        examples=[STORE_EXAMPLE],
    ),
)
class StoreViewSet(ApiViewSet):
    queryset = Store.objects.none()
    serializer_class = s.StoreSerializer
    required_perms = {"list": ("allocation.view_store",), "retrieve": ("allocation.view_store",)}

    def list(self, request):
        scoped = Store.objects.for_user(request.user)
        return self.paged(filtered(StoreFilter, scoped, request).qs, s.StoreSerializer)

    def retrieve(self, request, pk=None):
        store = Store.objects.for_user(request.user).filter(pk=self.object_id()).first()
        if store is None:
            raise Http404
        return Response(s.StoreSerializer(store).data)


@extend_schema_view(
    list=extend_schema(
        summary="List grab windows",
        description="Every window for a holder of `view_all_stores`; for a store manager, the "
        "open and upcoming windows open to one of his stores (his grab screen).",
        parameters=filter_parameters(WindowFilter, CURSOR, LIMIT),
    ),
    retrieve=extend_schema(
        summary="One grab window",
        description="With its pools (offered, granted, left). 404 for a window not open to "
        "the store manager's stores.",
    ),
    create=extend_schema(
        summary="Create a grab window",
        description="A pool of goods from a source warehouse between two times, first come or "
        "priority at close. When `opens_at` has come it opens at once, reserving the offered "
        "stock (409 `insufficient_stock` refuses the whole window). Accepts `Idempotency-Key`.",
        request=s.WindowInput,
        responses={201: s.WindowSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[WINDOW_EXAMPLE],
    ),
)
class GrabWindowViewSet(ApiViewSet):
    queryset = GrabWindow.objects.none()
    serializer_class = s.WindowSerializer
    required_perms = {
        "list": ("allocation.view_grabwindow",),
        "retrieve": ("allocation.view_grabwindow",),
        "create": ("allocation.manage_windows",),
        "close": ("allocation.manage_windows",),
        "cancel": ("allocation.manage_windows",),
    }

    def _visible(self):
        base = GrabWindow.objects.select_related("warehouse").prefetch_related("pools__goods")
        user = self.request.user
        if user.has_perm("allocation.view_all_stores"):
            return base
        ids = [row["window"].pk for row in selectors.window_list_for_store_manager(user)]
        return base.filter(pk__in=ids)

    def _window(self) -> GrabWindow:
        window = selectors.grab_window_get(self.request.user, self.object_id())
        if window is None:
            raise Http404
        return window

    def _out(self, pk: int, code=status.HTTP_200_OK) -> Response:
        window = (
            GrabWindow.objects.select_related("warehouse")
            .prefetch_related("pools__goods")
            .get(pk=pk)
        )
        return Response(s.WindowSerializer(window).data, status=code)

    def list(self, request):
        queryset = filtered(WindowFilter, self._visible(), request).qs
        return self.paged(queryset, s.WindowSerializer)

    def retrieve(self, request, pk=None):
        return self._out(self._window().pk)

    def create(self, request):
        data = self.parse(s.WindowInput)

        def run() -> Response:
            window = self._create(data)
            return self._out(window.pk, status.HTTP_201_CREATED)

        return idempotent(request, run)

    def _create(self, data: dict) -> GrabWindow:
        request = self.request
        return windows.window_create(
            name=data["name"],
            warehouse=data["warehouse"],
            policy=data["policy"],
            mode=data["mode"],
            opens_at=data["opens_at"],
            closes_at=data["closes_at"],
            scope=data["scope"],
            stores=list(data["stores"]),
            store_group=data["store_group"],
            recurs=data["recurs"],
            offers=[windows.Offer(o["goods"], o["quantity"]) for o in data["offers"]],
            user=request.user,
        )

    @extend_schema(
        summary="Close a grab window now",
        description="Priority at close: shares the pending requests by the policy. Either "
        "mode: makes the replenishment orders and unreserves what nobody got. Closing a "
        "closed window is harmless; a window not open yet or cancelled is refused (409). "
        "Accepts `Idempotency-Key`.",
        request=None,
        responses={200: s.WindowSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        window = self._window()

        def run() -> Response:
            close.window_close_now(window_id=window.pk, user=request.user)
            return self._out(window.pk)

        return idempotent(request, run)

    @extend_schema(
        summary="Cancel a grab window",
        description="Unreserves its stock and refuses the live requests. Accepts "
        "`Idempotency-Key`.",
        request=None,
        responses={200: s.WindowSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        window = self._window()

        def run() -> Response:
            windows.window_cancel(window_id=window.pk, user=request.user)
            return self._out(window.pk)

        return idempotent(request, run)


@extend_schema_view(
    list=extend_schema(
        summary="List grab requests",
        description="Requests of the user's stores, newest first.",
        parameters=filter_parameters(GrabRequestFilter, CURSOR, LIMIT),
    ),
    create=extend_schema(
        summary="Grab stock for a store",
        description="First come: answered at once (`granted`, `partial` or `refused` with the "
        "`reason`). Priority at close: `pending` until the window closes. 404 for a store "
        "the user does not run or a window not open to it; 409 `window_not_open`. Accepts "
        "`Idempotency-Key` (the same key and body never grab twice).",
        request=s.GrabRequestInput,
        responses={201: s.GrabRequestSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[GRAB_EXAMPLE],
    ),
)
class GrabRequestViewSet(ApiViewSet):
    serializer_class = s.GrabRequestSerializer
    required_perms = {
        "list": ("allocation.view_grabrequest",),
        "create": ("allocation.grab",),
        "cancel": ("allocation.grab",),
    }

    def list(self, request):
        queryset = filtered(GrabRequestFilter, selectors.request_list(request.user), request).qs
        return self.paged(queryset, s.GrabRequestSerializer)

    def create(self, request):
        data = self.parse(s.GrabRequestInput)
        store = selectors.my_stores(request.user).filter(pk=data["store"]).first()
        window = selectors.grab_window_get(request.user, data["window"])
        if store is None or window is None:
            raise Http404

        def run() -> Response:
            made = grabs.grab_request_submit(
                user=request.user,
                store=store,
                window=window,
                goods_id=data["goods"],
                quantity=data["quantity"],
            )
            return self._out(made.pk, status.HTTP_201_CREATED)

        return idempotent(request, run)

    def _out(self, pk: int, code=status.HTTP_200_OK) -> Response:
        made = selectors.request_list(self.request.user).get(pk=pk)
        return Response(s.GrabRequestSerializer(made).data, status=code)

    @extend_schema(
        summary="Cancel a grab request",
        description="A pending request (priority at close) of one of the user's stores.",
        request=None,
        responses={200: s.GrabRequestSerializer},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        pk = self.object_id()
        if not selectors.request_list(request.user).filter(pk=pk).exists():
            raise Http404
        grabs.grab_request_cancel(user=request.user, request_id=pk)
        return self._out(pk)


@extend_schema_view(
    list=extend_schema(
        summary="List replenishment orders",
        description="Orders of the user's stores, newest first.",
        parameters=filter_parameters(ReplenishmentOrderFilter, CURSOR, LIMIT),
    ),
    retrieve=extend_schema(
        summary="One replenishment order",
        description="With its lines (bin, batch, received, damaged, shortage) and timeline.",
        responses={200: s.ReplenishmentOrderDetailSerializer},
    ),
)
class ReplenishmentOrderViewSet(ApiViewSet):
    queryset = ReplenishmentOrder.objects.none()
    serializer_class = s.ReplenishmentOrderSerializer
    required_perms = {
        "list": ("allocation.view_replenishmentorder",),
        "retrieve": ("allocation.view_replenishmentorder",),
        "pick": ("allocation.ship_order",),
        "ship": ("allocation.ship_order",),
        "cancel": ("allocation.ship_order",),
        "receive": ("allocation.receive_order",),
    }

    def _order(self) -> ReplenishmentOrder:
        order = selectors.order_get(self.request.user, self.object_id())
        if order is None:
            raise Http404
        return order

    def _out(self, pk: int) -> Response:
        order = (
            ReplenishmentOrder.objects.select_related("store", "warehouse")
            .prefetch_related(
                "lines__goods", "lines__balance__bin", "lines__balance__batch", "events__actor"
            )
            .get(pk=pk)
        )
        return Response(s.ReplenishmentOrderDetailSerializer(order).data)

    def list(self, request):
        queryset = filtered(
            ReplenishmentOrderFilter, selectors.order_list(request.user), request
        ).qs
        return self.paged(queryset, s.ReplenishmentOrderSerializer)

    def retrieve(self, request, pk=None):
        return self._out(self._order().pk)

    def _transition(self, request, change) -> Response:
        order = self._order()

        def run() -> Response:
            change(order)
            return self._out(order.pk)

        return idempotent(request, run)

    @extend_schema(
        summary="Start picking",
        description="created -> picking. Picking again is harmless.",
        request=None,
        responses={200: s.ReplenishmentOrderDetailSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["post"])
    def pick(self, request, pk=None):
        return self._transition(
            request, lambda o: orders.order_start_picking(order_id=o.pk, user=request.user)
        )

    @extend_schema(
        summary="Ship",
        description="created/picking -> shipped: posts the outbound store replenishment "
        "movement from the reserved stock. 409 `invalid_state` for a cancelled or received "
        "order. Accepts `Idempotency-Key`.",
        request=None,
        responses={200: s.ReplenishmentOrderDetailSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @action(detail=True, methods=["post"])
    def ship(self, request, pk=None):
        return self._transition(
            request, lambda o: orders.order_ship(order_id=o.pk, user=request.user)
        )

    @extend_schema(
        summary="Cancel",
        description="created/picking -> cancelled, unreserving the stock. A shipped order is "
        "refused (409): the store files a return.",
        request=s.NoteInput,
        responses={200: s.ReplenishmentOrderDetailSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[
            OpenApiExample("Cancel", value={"note": "Store closed for refit"}, request_only=True)
        ],
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        note = self.parse(s.NoteInput)["note"]
        return self._transition(
            request, lambda o: orders.order_cancel(order_id=o.pk, user=request.user, note=note)
        )

    @extend_schema(
        summary="Receive at the store",
        description="shipped -> received by the store's manager. Per line: units `received` "
        "and of those `damaged`; lines not named arrived in full. The shortages go into the "
        "timeline. 400 for more received than shipped or more damaged than received.",
        request=s.ReceiveInput,
        responses={200: s.ReplenishmentOrderDetailSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[RECEIVE_EXAMPLE],
    )
    @action(detail=True, methods=["post"])
    def receive(self, request, pk=None):
        data = self.parse(s.ReceiveInput)
        received = {row["line"]: (row["received"], row["damaged"]) for row in data["lines"]}
        return self._transition(
            request,
            lambda o: orders.order_receive(
                order_id=o.pk, user=request.user, received=received, note=data["note"]
            ),
        )
