"""Representations and inputs of the store allocation endpoints (stores, grab windows, grab
requests, replenishment orders, store sales, store returns). Outputs are plain model
serializers; inputs are strict (unknown fields refused) and only parse: the allocation services
decide."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from allocation.models import (
    GrabPool,
    GrabRequest,
    GrabWindow,
    OrderEvent,
    Policy,
    ReplenishmentLine,
    ReplenishmentOrder,
    Store,
    StoreReturn,
    StoreReturnLine,
    StoreSales,
)
from allocation.services import sales
from api.serializers_base import QuantityField, StrictSerializer
from inventory.models import Goods
from warehouses.models import Warehouse


class StoreSerializer(serializers.ModelSerializer):
    class Meta:
        model = Store
        fields = [
            "id",
            "code",
            "name",
            "address",
            "contact_name",
            "phone",
            "opening_hours",
            "group",
            "fixed_rank",
            "is_active",
        ]


class PoolSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="goods.sku", read_only=True)
    left = serializers.IntegerField(read_only=True)

    class Meta:
        model = GrabPool
        fields = ["id", "goods", "sku", "offered", "granted", "left"]


class WindowSerializer(serializers.ModelSerializer):
    ref = serializers.CharField(read_only=True)
    warehouse_code = serializers.CharField(source="warehouse.code", read_only=True)
    pools = PoolSerializer(many=True, read_only=True)

    class Meta:
        model = GrabWindow
        fields = [
            "id",
            "ref",
            "name",
            "warehouse",
            "warehouse_code",
            "policy",
            "mode",
            "status",
            "scope",
            "store_group",
            "opens_at",
            "closes_at",
            "recurs",
            "opened_at",
            "closed_at",
            "pools",
        ]


class OfferInput(StrictSerializer):
    goods = serializers.PrimaryKeyRelatedField(queryset=Goods.objects.all())
    quantity = QuantityField(max_value=10_000_000)


class WindowInput(StrictSerializer):
    name = serializers.CharField(max_length=120)
    warehouse = serializers.PrimaryKeyRelatedField(queryset=Warehouse.objects.all())
    policy = serializers.PrimaryKeyRelatedField(queryset=Policy.objects.filter(is_active=True))
    mode = serializers.ChoiceField(choices=GrabWindow.Mode.choices)
    opens_at = serializers.DateTimeField()
    closes_at = serializers.DateTimeField()
    scope = serializers.ChoiceField(choices=GrabWindow.Scope.choices, default="all")
    stores = serializers.PrimaryKeyRelatedField(
        queryset=Store.objects.filter(is_active=True), many=True, required=False, default=list
    )
    store_group = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    recurs = serializers.BooleanField(required=False, default=False)
    offers = OfferInput(many=True, allow_empty=False, max_length=200)


class GrabRequestSerializer(serializers.ModelSerializer):
    store_code = serializers.CharField(source="store.code", read_only=True)
    goods = serializers.IntegerField(source="pool.goods_id", read_only=True)
    sku = serializers.CharField(source="pool.goods.sku", read_only=True)
    reason = serializers.CharField(read_only=True)

    class Meta:
        model = GrabRequest
        fields = [
            "id",
            "window",
            "store",
            "store_code",
            "goods",
            "sku",
            "quantity",
            "granted",
            "status",
            "reason_code",
            "reason",
            "created_at",
            "answered_at",
        ]


class GrabRequestInput(StrictSerializer):
    window = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    store = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    goods = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    quantity = QuantityField(max_value=1_000_000)


class ReplenishmentLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="goods.sku", read_only=True)
    bin_code = serializers.CharField(source="balance.bin.code", read_only=True)
    batch_no = serializers.SerializerMethodField()
    shortage = serializers.IntegerField(read_only=True)

    class Meta:
        model = ReplenishmentLine
        fields = [
            "id",
            "goods",
            "sku",
            "bin_code",
            "batch_no",
            "quantity",
            "received",
            "damaged",
            "shortage",
        ]

    def get_batch_no(self, line) -> str:
        return line.balance.batch.batch_no if line.balance.batch_id else ""


class OrderEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(
        source="actor.username", default=None, allow_null=True, read_only=True
    )
    details = serializers.JSONField(
        read_only=True,
        help_text="The event's data: a receipt's {\"shortages\": [[sku, short, damaged], ...]}.",
    )
    note_display = serializers.CharField(
        read_only=True,
        help_text="The event told in the request's language: a receipt's shortages, then the "
        "receiver's own note (`note`, as written).",
    )

    class Meta:
        model = OrderEvent
        fields = ["kind", "actor", "note", "details", "note_display", "created_at"]


class ReplenishmentOrderSerializer(serializers.ModelSerializer):
    ref = serializers.CharField(read_only=True)
    store_code = serializers.CharField(source="store.code", read_only=True)
    warehouse_code = serializers.CharField(source="warehouse.code", read_only=True)

    class Meta:
        model = ReplenishmentOrder
        fields = [
            "id",
            "ref",
            "window",
            "store",
            "store_code",
            "warehouse",
            "warehouse_code",
            "status",
            "created_at",
            "shipped_at",
            "received_at",
        ]


class ReplenishmentOrderDetailSerializer(ReplenishmentOrderSerializer):
    lines = ReplenishmentLineSerializer(many=True, read_only=True)
    events = OrderEventSerializer(many=True, read_only=True)

    class Meta(ReplenishmentOrderSerializer.Meta):
        fields = [*ReplenishmentOrderSerializer.Meta.fields, "lines", "events"]


class NoteInput(StrictSerializer):
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class CountField(QuantityField):
    """A whole number of units, zero allowed (units received, of which damaged)."""

    default_error_messages = {"min_value": _("Enter whole numbers of zero or more.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", 10_000_000)
        super().__init__(**kwargs)


class ReceivedOrderLineInput(StrictSerializer):
    line = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    received = CountField()
    damaged = CountField(required=False, default=0)


class ReceiveInput(StrictSerializer):
    lines = ReceivedOrderLineInput(many=True, required=False, default=list, max_length=500)
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")

    def validate_lines(self, lines: list[dict]) -> list[dict]:
        ids = [row["line"] for row in lines]
        if len(ids) != len(set(ids)):
            raise serializers.ValidationError(_("Name each line once."))
        return lines


class StoreSalesSerializer(serializers.ModelSerializer):
    store_code = serializers.CharField(source="store.code", read_only=True)
    sku = serializers.CharField(source="goods.sku", read_only=True)

    class Meta:
        model = StoreSales
        fields = ["id", "store", "store_code", "goods", "sku", "day", "units_sold", "on_hand"]


class StoreSalesRowInput(StrictSerializer):
    store = serializers.CharField(
        max_length=32, help_text="The store's code (case does not matter)."
    )
    sku = serializers.CharField(max_length=64, help_text="The goods' SKU (case does not matter).")
    day = serializers.DateField(help_text="The day sold, not in the future.")
    units_sold = CountField(max_value=sales.MAX_UNITS)
    on_hand = CountField(
        max_value=sales.MAX_UNITS,
        required=False,
        allow_null=True,
        default=None,
        help_text="The store's own stock that day; null or left out: not known.",
    )


class BadRow:
    """A row its serializer refused: ``detail`` is the ValidationError's detail."""

    __slots__ = ("detail",)

    def __init__(self, detail) -> None:
        self.detail = detail


class RowsField(serializers.ListField):
    """A list checked row by row without stopping at the first bad row: the good rows come
    back parsed and each bad one as a ``BadRow``, so the view can add the rules' refusals of
    the good rows and answer every bad row at once. The length is checked first."""

    def run_child_validation(self, data):
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        out = []
        for item in data:
            try:
                out.append(self.child.run_validation(item))
            except serializers.ValidationError as error:
                out.append(BadRow(error.detail))
        return out


class StoreSalesBatchInput(StrictSerializer):
    rows = RowsField(
        child=StoreSalesRowInput(),
        allow_empty=False,
        min_length=1,
        max_length=sales.MAX_BATCH,
        help_text=f"1 to {sales.MAX_BATCH} rows; a (store, sku, day) at most once.",
    )


class StoreSalesBatchResult(serializers.Serializer):
    written = serializers.IntegerField(help_text="Rows written (new or replaced).")


class StoreReturnLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="goods.sku", read_only=True)

    class Meta:
        model = StoreReturnLine
        fields = ["id", "order_line", "goods", "sku", "quantity"]


class StoreReturnSerializer(serializers.ModelSerializer):
    ref = serializers.CharField(read_only=True)
    order_ref = serializers.CharField(source="order.ref", read_only=True)
    store_code = serializers.CharField(source="store.code", read_only=True)
    units = serializers.IntegerField(read_only=True, help_text="Units sent back, all lines.")

    class Meta:
        model = StoreReturn
        fields = [
            "id",
            "ref",
            "order",
            "order_ref",
            "store",
            "store_code",
            "reason",
            "note",
            "status",
            "units",
            "filed_at",
            "received_at",
        ]


class StoreReturnDetailSerializer(StoreReturnSerializer):
    warehouse = serializers.IntegerField(source="order.warehouse_id", read_only=True)
    filed_by = serializers.CharField(
        source="filed_by.username", default=None, allow_null=True, read_only=True
    )
    received_by = serializers.CharField(
        source="received_by.username", default=None, allow_null=True, read_only=True
    )
    lines = StoreReturnLineSerializer(many=True, read_only=True)

    class Meta(StoreReturnSerializer.Meta):
        fields = [
            *StoreReturnSerializer.Meta.fields,
            "warehouse",
            "filed_by",
            "received_by",
            "inbound_sheet",
            "lines",
        ]


class ReturnLineInput(StrictSerializer):
    line = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    quantity = CountField()


class StoreReturnInput(StrictSerializer):
    order = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    lines = ReturnLineInput(many=True, allow_empty=False, max_length=500)
    reason = serializers.ChoiceField(choices=StoreReturn.Reason.choices)
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")

    def validate_lines(self, lines: list[dict]) -> list[dict]:
        ids = [row["line"] for row in lines]
        if len(ids) != len(set(ids)):
            raise serializers.ValidationError(_("Name each line once."))
        return lines


class ReturnReceiveInput(StrictSerializer):
    bin = serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        help_text="An active bin of the warehouse the order left from.",
    )
