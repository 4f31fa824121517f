"""Platform sync: shops, listings (link, unlink), warehouse bindings (request a change,
preview it, confirm or reject it, roll one back), sync records and platform orders (confirm).

Every read and write goes through ``channels_sync`` selectors and services, with the
permissions of the matching screens (``sync_products`` to link, ``request_binding_change`` /
``confirm_binding`` for the two people of a binding review, ``confirm_order``). Shops hold
no store data: there is no store scoping here; shop credentials never leave the server."""

from __future__ import annotations

from functools import partial

from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from api.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from api.serializers_base import StrictSerializer
from api.v1.base import ApiViewSet, filter_parameters, filtered
from api.v1.filters import (
    BindingChangeFilter,
    ChannelOrderFilter,
    ListingFilter,
    ShopFilter,
    SyncRecordFilter,
)
from api.v1.stock import CURSOR, LIMIT
from channels_sync import selectors, selectors_orders
from channels_sync.exceptions import ChannelError
from channels_sync.hooks import queue_push_soon
from channels_sync.models import (
    BindingChange,
    BindingException,
    Listing,
    Order,
    OrderLine,
    Shop,
    SyncRecord,
)
from channels_sync.services import bindings as binding_services
from channels_sync.services import products as product_services
from channels_sync.services import shipping
from inventory.ledger import MAX_QUANTITY
from inventory.models import Goods
from warehouses.models import Warehouse

ID = {"min_value": 1, "max_value": 2**31 - 1}


# -- representations ---------------------------------------------------------------------------
class ShopSerializer(serializers.ModelSerializer):
    class Meta:
        model = Shop
        fields = [
            "id",
            "platform",
            "name",
            "domain",
            "is_stock_push_enabled",
            "is_order_pull_enabled",
            "share_percent",
            "safety_stock",
            "requires_review",
            "is_active",
            "last_product_sync_at",
        ]


class ListingSerializer(serializers.ModelSerializer):
    goods_sku = serializers.CharField(
        source="goods.sku", default=None, allow_null=True, read_only=True
    )

    class Meta:
        model = Listing
        fields = [
            "id",
            "shop",
            "product_ref",
            "variant_ref",
            "sku",
            "barcode",
            "title",
            "status",
            "goods",
            "goods_sku",
            "matched_by",
            "last_pushed_quantity",
            "last_pushed_at",
        ]


class BoundWarehouseSerializer(serializers.Serializer):
    warehouse = serializers.IntegerField()
    priority = serializers.IntegerField()


class ExceptionSerializer(serializers.Serializer):
    warehouse = serializers.IntegerField()
    goods = serializers.IntegerField(allow_null=True)
    listing = serializers.IntegerField(allow_null=True)
    mode = serializers.ChoiceField(choices=BindingException.Mode.choices)
    allotment = serializers.IntegerField(allow_null=True)


class BindingStateSerializer(serializers.Serializer):
    warehouses = BoundWarehouseSerializer(many=True)
    exceptions = ExceptionSerializer(many=True)


def _state_json(state) -> dict:
    return {
        "warehouses": [{"warehouse": w, "priority": p} for w, p in state.warehouses],
        "exceptions": [
            {"warehouse": e[0], "goods": e[1], "listing": e[2], "mode": e[3], "allotment": e[4]}
            for e in state.exceptions
        ],
    }


class BindingChangeSerializer(serializers.ModelSerializer):
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    confirmed_by = serializers.CharField(
        source="confirmed_by.username", default=None, allow_null=True, read_only=True
    )

    class Meta:
        model = BindingChange
        fields = [
            "id",
            "shop",
            "action",
            "summary",
            "status",
            "before",
            "after",
            "requested_by",
            "requested_at",
            "confirmed_by",
            "decided_at",
            "rollback_of",
        ]


class BindingPreviewRowSerializer(serializers.Serializer):
    listing = serializers.IntegerField()
    sku = serializers.CharField()
    before = serializers.IntegerField()
    after = serializers.IntegerField()
    changed = serializers.BooleanField()


class SyncRecordSerializer(serializers.ModelSerializer):
    listing_sku = serializers.CharField(source="listing.sku", read_only=True)
    goods_sku = serializers.CharField(source="goods.sku", read_only=True)

    class Meta:
        model = SyncRecord
        fields = [
            "id",
            "shop",
            "listing",
            "listing_sku",
            "goods",
            "goods_sku",
            "quantity",
            "previous_quantity",
            "trigger",
            "status",
            "message",
            "created_at",
        ]


class OrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = ["id", "line_ref", "listing", "goods", "sku", "title", "quantity", "price"]


class ChannelOrderSerializer(serializers.ModelSerializer):
    warehouse_code = serializers.CharField(
        source="warehouse.code", default=None, allow_null=True, read_only=True
    )

    class Meta:
        model = Order
        fields = [
            "id",
            "shop",
            "platform_order_id",
            "name",
            "status",
            "placed_at",
            "country",
            "postcode",
            "total",
            "currency",
            "warehouse",
            "warehouse_code",
            "is_split",
            "confirmed_at",
            "shipped_at",
            "message",
        ]


class ShipmentSerializer(serializers.Serializer):
    status = serializers.CharField()
    method = serializers.CharField()
    carrier = serializers.CharField(allow_null=True)
    service = serializers.CharField()
    tracking_number = serializers.CharField()


class ChannelOrderDetailSerializer(ChannelOrderSerializer):
    lines = OrderLineSerializer(many=True, read_only=True)
    shipment = serializers.SerializerMethodField()

    class Meta(ChannelOrderSerializer.Meta):
        fields = [*ChannelOrderSerializer.Meta.fields, "lines", "shipment"]

    def get_shipment(self, order) -> ShipmentSerializer(allow_null=True):  # type: ignore[valid-type]
        shipment = getattr(order, "shipment", None)
        if shipment is None:
            return None
        return {
            "status": shipment.status,
            "method": shipment.method,
            "carrier": str(shipment.carrier) if shipment.carrier_id else None,
            "service": shipment.service,
            "tracking_number": shipment.tracking_number,
        }


# -- inputs ------------------------------------------------------------------------------------
class LinkInput(StrictSerializer):
    goods = serializers.IntegerField(**ID)


class BindingChangeInput(StrictSerializer):
    op = serializers.ChoiceField(choices=["bind", "unbind", "exception"])
    warehouse = serializers.IntegerField(**ID)
    priority = serializers.IntegerField(min_value=1, max_value=999, required=False)
    goods = serializers.IntegerField(required=False, **ID)
    mode = serializers.ChoiceField(
        choices=[("", _("Bound (remove the exception)")), *BindingException.Mode.choices],
        required=False,
        allow_blank=True,
        default="",
    )
    allotment = serializers.IntegerField(min_value=0, max_value=MAX_QUANTITY, required=False)

    def validate(self, attrs):
        if attrs["op"] == "exception":
            if attrs.get("goods") is None:
                raise serializers.ValidationError({"goods": [_("Choose the goods.")]})
            if attrs.get("mode") == "allotment" and attrs.get("allotment") is None:
                raise serializers.ValidationError(
                    {"allotment": [_("Give the allotment quantity.")]}
                )
        return attrs


BIND_EXAMPLE = OpenApiExample(
    "Bind Melbourne second",
    value={"op": "bind", "warehouse": 2, "priority": 2},
    request_only=True,
)


def _proposed(shop: Shop, data: dict):
    """(state after, action, summary) of a change input, as the bindings screen builds it."""
    state = selectors.binding_state(shop)
    warehouse = Warehouse.objects.filter(pk=data["warehouse"]).first()
    if warehouse is None:
        raise ChannelError(_("Choose a warehouse."), field="warehouse")
    if data["op"] == "bind":
        priority = data.get("priority") or len(state.warehouses) + 1
        return (
            binding_services.state_with(state, bind=(warehouse.pk, priority)),
            BindingChange.Action.BIND,
            _("Bind %(wh)s (priority %(p)s)") % {"wh": warehouse.code, "p": priority},
        )
    if data["op"] == "unbind":
        return (
            binding_services.state_with(state, unbind=warehouse.pk),
            BindingChange.Action.UNBIND,
            _("Unbind %(wh)s") % {"wh": warehouse.code},
        )
    goods = Goods.objects.filter(pk=data["goods"]).first()
    if goods is None:
        raise ChannelError(_("No such goods."), field="goods")
    mode = data.get("mode") or None
    allotment = data.get("allotment")
    return (
        binding_services.state_with(
            state, exception=(warehouse.pk, goods.pk, None, mode, allotment)
        ),
        BindingChange.Action.EXCEPTION,
        _("%(sku)s at %(wh)s: %(rule)s%(qty)s")
        % {
            "sku": goods.sku,
            "wh": warehouse.code,
            "rule": dict(BindingException.Mode.choices).get(mode, _("bound")),
            "qty": f" {allotment}" if mode == "allotment" else "",
        },
    )


# -- views -------------------------------------------------------------------------------------
@extend_schema_view(
    list=extend_schema(
        summary="List shops",
        description="Shops on their platforms, newest first (credentials are never returned).",
        parameters=filter_parameters(ShopFilter, CURSOR, LIMIT),
    ),
    retrieve=extend_schema(summary="One shop", description="Without its credentials."),
)
class ShopViewSet(ApiViewSet):
    queryset = Shop.objects.none()
    serializer_class = ShopSerializer
    required_perms = {
        "list": ("channels_sync.view_shop",),
        "retrieve": ("channels_sync.view_shop",),
        "bindings": ("channels_sync.view_binding",),
        "binding_changes": ("channels_sync.view_binding",),
        "binding_change_request": ("channels_sync.request_binding_change",),
        "binding_preview": ("channels_sync.view_binding",),
    }

    def _shop(self) -> Shop:
        shop = Shop.objects.filter(pk=self.object_id()).first()
        if shop is None:
            raise Http404
        return shop

    def list(self, request):
        return self.paged(filtered(ShopFilter, Shop.objects.all(), request).qs, ShopSerializer)

    def retrieve(self, request, pk=None):
        return Response(ShopSerializer(self._shop()).data)

    @extend_schema(
        summary="Bindings of a shop",
        description="The warehouses feeding the shop (priority 1 first) and the per-goods "
        "exceptions (unbound, or a fixed allotment).",
        responses={200: BindingStateSerializer},
    )
    @action(detail=True, methods=["get"])
    def bindings(self, request, pk=None):
        return Response(_state_json(selectors.binding_state(self._shop())))

    @extend_schema(
        summary="Binding changes of a shop",
        description="The append-only audit of binding changes, newest first.",
        parameters=filter_parameters(BindingChangeFilter, CURSOR, LIMIT),
        responses={200: BindingChangeSerializer(many=True)},
        methods=["GET"],
    )
    @action(detail=True, methods=["get"], url_path="binding-changes")
    def binding_changes(self, request, pk=None):
        shop = self._shop()
        queryset = BindingChange.objects.filter(shop=shop).select_related(
            "requested_by", "confirmed_by"
        )
        return self.paged(
            filtered(BindingChangeFilter, queryset, request).qs, BindingChangeSerializer
        )

    @extend_schema(
        summary="Request a binding change",
        description="`bind` a warehouse (with a priority), `unbind` one, or set a goods "
        "`exception` at a bound warehouse (`mode` unbound or allotment; empty removes it). "
        "Applied at once, or `pending` when the shop needs a second person to confirm. 409 "
        "`channel_error` when nothing would change.",
        request=BindingChangeInput,
        responses={201: BindingChangeSerializer},
        examples=[BIND_EXAMPLE],
        methods=["POST"],
    )
    @binding_changes.mapping.post
    def binding_change_request(self, request, pk=None):
        shop = self._shop()
        after, kind, summary = _proposed(shop, self.parse(BindingChangeInput))
        change = binding_services.binding_change_request(
            shop=shop, after=after, action=kind, summary=summary, user=request.user
        )
        if change.status == BindingChange.Status.APPLIED:
            transaction.on_commit(partial(queue_push_soon, [shop.pk]))
        return Response(BindingChangeSerializer(change).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Preview a binding change",
        description="Sellable quantity per matched listing before and after the change. "
        "Writes nothing.",
        request=BindingChangeInput,
        responses={200: BindingPreviewRowSerializer(many=True)},
        examples=[BIND_EXAMPLE],
    )
    @action(
        detail=True, methods=["post"], url_path="binding-changes/preview", pagination_class=None
    )
    def binding_preview(self, request, pk=None):
        shop = self._shop()
        after, _kind, _summary = _proposed(shop, self.parse(BindingChangeInput))
        rows = binding_services.binding_preview(shop, after)
        return Response(
            [
                {
                    "listing": row["listing"].pk,
                    "sku": row["listing"].sku,
                    "before": row["before"],
                    "after": row["after"],
                    "changed": row["changed"],
                }
                for row in rows
            ]
        )


@extend_schema_view(
    confirm=extend_schema(
        summary="Confirm a binding change",
        description="The second person applies a pending change. 403 `not_allowed` for the "
        "requester; 409 `stale_bindings` when the bindings moved since the request.",
        request=None,
        responses={200: BindingChangeSerializer},
    ),
    reject=extend_schema(
        summary="Reject a binding change",
        description="The second person refuses a pending change; the bindings stay. 409 when "
        "it was already decided.",
        request=None,
        responses={200: BindingChangeSerializer},
    ),
    rollback=extend_schema(
        summary="Roll a binding change back",
        description="Proposes the bindings as they were before an applied change (reviewed "
        "like any change).",
        request=None,
        responses={201: BindingChangeSerializer},
    ),
)
class BindingChangeViewSet(ApiViewSet):
    serializer_class = BindingChangeSerializer
    required_perms = {
        "confirm": ("channels_sync.confirm_binding",),
        "reject": ("channels_sync.confirm_binding",),
        "rollback": ("channels_sync.request_binding_change",),
    }

    def _change(self) -> BindingChange:
        change = BindingChange.objects.filter(pk=self.object_id()).first()
        if change is None:
            raise Http404
        return change

    def _out(self, change, code=status.HTTP_200_OK) -> Response:
        change = BindingChange.objects.select_related("requested_by", "confirmed_by").get(
            pk=change.pk
        )
        return Response(BindingChangeSerializer(change).data, status=code)

    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        change = binding_services.binding_change_confirm(change=self._change(), user=request.user)
        transaction.on_commit(partial(queue_push_soon, [change.shop_id]))
        return self._out(change)

    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        change = binding_services.binding_change_reject(change=self._change(), user=request.user)
        return self._out(change)

    @action(detail=True, methods=["post"])
    def rollback(self, request, pk=None):
        new = binding_services.binding_rollback(change=self._change(), user=request.user)
        if new.status == BindingChange.Status.APPLIED:
            transaction.on_commit(partial(queue_push_soon, [new.shop_id]))
        return self._out(new, status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(
        summary="List listings",
        description="Platform listings of every shop; `is_matched=false` is the matching queue.",
        parameters=filter_parameters(ListingFilter, CURSOR, LIMIT),
    ),
    retrieve=extend_schema(summary="One listing", description="A listing by id."),
    link=extend_schema(
        summary="Link a listing to goods",
        description="By hand (combo goods allowed); audited, queues a stock push. 400 for "
        "inactive goods.",
        request=LinkInput,
        responses={200: ListingSerializer},
        examples=[OpenApiExample("Link", value={"goods": 3}, request_only=True)],
    ),
    unlink=extend_schema(
        summary="Unlink a listing",
        description="It is no longer pushed. 409 when it is not linked.",
        request=None,
        responses={200: ListingSerializer},
    ),
)
class ListingViewSet(ApiViewSet):
    queryset = Listing.objects.none()
    serializer_class = ListingSerializer
    required_perms = {
        "list": ("channels_sync.view_listing",),
        "retrieve": ("channels_sync.view_listing",),
        "link": ("channels_sync.sync_products",),
        "unlink": ("channels_sync.sync_products",),
    }

    def _listing(self) -> Listing:
        listing = Listing.objects.select_related("goods").filter(pk=self.object_id()).first()
        if listing is None:
            raise Http404
        return listing

    def _out(self, pk: int) -> Response:
        return Response(ListingSerializer(Listing.objects.select_related("goods").get(pk=pk)).data)

    def list(self, request):
        queryset = Listing.objects.select_related("goods")
        return self.paged(filtered(ListingFilter, queryset, request).qs, ListingSerializer)

    def retrieve(self, request, pk=None):
        return Response(ListingSerializer(self._listing()).data)

    @action(detail=True, methods=["post"])
    def link(self, request, pk=None):
        listing = self._listing()
        goods = Goods.objects.filter(pk=self.parse(LinkInput)["goods"]).first()
        if goods is None:
            raise ChannelError(_("No such goods."), field="goods")
        product_services.listing_link(listing=listing, goods=goods, user=request.user)
        return self._out(listing.pk)

    @action(detail=True, methods=["post"])
    def unlink(self, request, pk=None):
        listing = self._listing()
        product_services.listing_unlink(listing=listing, user=request.user)
        return self._out(listing.pk)


@extend_schema_view(
    list=extend_schema(
        summary="Sync records",
        description="The append-only log of stock pushes (auto or manual, success or "
        "failure, the quantity sent and why), newest first.",
        parameters=filter_parameters(SyncRecordFilter, CURSOR, LIMIT),
    )
)
class SyncRecordViewSet(ApiViewSet):
    serializer_class = SyncRecordSerializer
    required_perms = {"list": ("channels_sync.view_syncrecord",)}

    def list(self, request):
        queryset = SyncRecord.objects.select_related("listing", "goods")
        return self.paged(filtered(SyncRecordFilter, queryset, request).qs, SyncRecordSerializer)


@extend_schema_view(
    list=extend_schema(
        summary="List platform orders",
        description="Orders pulled from the shops, newest first.",
        parameters=filter_parameters(ChannelOrderFilter, CURSOR, LIMIT),
    ),
    retrieve=extend_schema(
        summary="One platform order",
        description="With its lines and shipment (carrier, tracking number).",
        responses={200: ChannelOrderDetailSerializer},
    ),
    confirm=extend_schema(
        summary="Confirm an order",
        description="A reserved order: the logistics rules choose the carrier, the shipment "
        "is booked in the background (then the outbound movement is posted and the "
        "fulfilment reported to the platform). 409 when the order is not reserved or no "
        "rule matches. Accepts `Idempotency-Key`.",
        request=None,
        responses={200: ChannelOrderDetailSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
    ),
)
class ChannelOrderViewSet(ApiViewSet):
    queryset = Order.objects.none()
    serializer_class = ChannelOrderSerializer
    required_perms = {
        "list": ("channels_sync.view_order",),
        "retrieve": ("channels_sync.view_order",),
        "confirm": ("channels_sync.confirm_order",),
        "shipment_retry": ("channels_sync.confirm_order",),
    }

    def _order(self) -> Order:
        order = selectors_orders.order_get(self.object_id())
        if order is None:
            raise Http404
        return order

    def list(self, request):
        queryset = Order.objects.select_related("warehouse")
        return self.paged(
            filtered(ChannelOrderFilter, queryset, request).qs, ChannelOrderSerializer
        )

    def retrieve(self, request, pk=None):
        return Response(ChannelOrderDetailSerializer(self._order()).data)

    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        order = self._order()

        def run() -> Response:
            shipping.order_confirm(order_id=order.pk, user=request.user)
            return Response(ChannelOrderDetailSerializer(self._order()).data)

        return idempotent(request, run)

    @extend_schema(
        summary="Retry the shipment",
        description="As the order screen's retry: a failed carrier booking is booked again "
        "(the same idempotency key: never a second parcel), then the outbound movement is "
        "posted; a failed fulfilment report to the platform is sent again. 409 when neither "
        "failed; 404 for an order without a shipment.",
        request=None,
        responses={200: ChannelOrderDetailSerializer},
    )
    @action(detail=True, methods=["post"], url_path="shipment-retry")
    def shipment_retry(self, request, pk=None):
        order = self._order()
        shipment = getattr(order, "shipment", None)
        if shipment is None:
            raise Http404
        if shipment.status == shipment.Status.FAILED:
            shipping.shipment_retry(shipment_id=shipment.pk, user=request.user)
        else:
            shipping.fulfilment_report_retry(shipment_id=shipment.pk)
        return Response(ChannelOrderDetailSerializer(self._order()).data)
