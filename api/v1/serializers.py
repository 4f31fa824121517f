"""Representations (read) and inputs (write) of API v1.

Output serializers read model rows the selectors return; input serializers only parse
(``StrictSerializer``: unknown fields refused) and hand typed values to the services, which
decide everything else. Foreign keys are given by id.
"""

from __future__ import annotations

from rest_framework import serializers

from api.serializers_base import QuantityField, StrictSerializer
from freezes.models import (
    Freeze,
    FreezeEvent,
    FreezeLine,
    QualityInspection,
    Reason,
    ReleaseRequest,
)
from inventory.models import (
    Batch,
    Brand,
    Category,
    ComboComponent,
    Goods,
    InboundLine,
    InboundSheet,
    OutboundLine,
    OutboundSheet,
    StockCount,
    StockCountLine,
    StockMovement,
    StockTransfer,
    StockTransferLine,
)
from warehouses.models import Bin, Warehouse, Zone

# --------------------------------------------------------------------------------------------
# Catalogue
# --------------------------------------------------------------------------------------------


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "parent"]


class BrandSerializer(serializers.ModelSerializer):
    class Meta:
        model = Brand
        fields = ["id", "name"]


class BatchSerializer(serializers.ModelSerializer):
    class Meta:
        model = Batch
        fields = ["id", "goods", "batch_no", "production_date", "expiry_date", "inbound_date"]


class ComponentSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="component.sku", read_only=True)

    class Meta:
        model = ComboComponent
        fields = ["component", "sku", "quantity"]


class GoodsSerializer(serializers.ModelSerializer):
    weight = serializers.DecimalField(max_digits=12, decimal_places=3, allow_null=True)
    volume = serializers.DecimalField(max_digits=12, decimal_places=3, allow_null=True)

    class Meta:
        model = Goods
        fields = [
            "id",
            "sku",
            "name",
            "barcode",
            "category",
            "brand",
            "unit",
            "weight",
            "volume",
            "shelf_life_days",
            "is_combo",
            "is_active",
            "created_at",
            "updated_at",
        ]


class GoodsDetailSerializer(GoodsSerializer):
    components = ComponentSerializer(many=True, read_only=True)
    batches = BatchSerializer(many=True, read_only=True)

    class Meta(GoodsSerializer.Meta):
        fields = [*GoodsSerializer.Meta.fields, "components", "batches"]


class GoodsInput(StrictSerializer):
    sku = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=255)
    barcode = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.all(), required=False, allow_null=True, default=None
    )
    brand = serializers.PrimaryKeyRelatedField(
        queryset=Brand.objects.all(), required=False, allow_null=True, default=None
    )
    unit = serializers.CharField(max_length=16, required=False, default="pcs")
    weight = serializers.DecimalField(
        max_digits=10, decimal_places=3, min_value=0, required=False, allow_null=True, default=None
    )
    volume = serializers.DecimalField(
        max_digits=12, decimal_places=3, min_value=0, required=False, allow_null=True, default=None
    )
    shelf_life_days = serializers.IntegerField(
        min_value=0, max_value=36_500, required=False, allow_null=True, default=None
    )
    is_active = serializers.BooleanField(required=False, default=True)


class ComponentInput(StrictSerializer):
    component = serializers.PrimaryKeyRelatedField(queryset=Goods.objects.all())
    quantity = QuantityField()


class BatchInput(StrictSerializer):
    batch_no = serializers.CharField(max_length=64)
    production_date = serializers.DateField(required=False, allow_null=True, default=None)
    expiry_date = serializers.DateField(required=False, allow_null=True, default=None)
    inbound_date = serializers.DateField(required=False, allow_null=True, default=None)


# --------------------------------------------------------------------------------------------
# Warehouses
# --------------------------------------------------------------------------------------------


class WarehouseSerializer(serializers.ModelSerializer):
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)

    class Meta:
        model = Warehouse
        fields = [
            "id",
            "code",
            "name",
            "address",
            "email",
            "latitude",
            "longitude",
            "priority",
            "is_active",
        ]


class ZoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = Zone
        fields = ["id", "warehouse", "code", "name", "type"]


class BinSerializer(serializers.ModelSerializer):
    class Meta:
        model = Bin
        fields = ["id", "warehouse", "zone", "code", "is_active"]


# --------------------------------------------------------------------------------------------
# Stock
# --------------------------------------------------------------------------------------------


class BalanceRowSerializer(serializers.Serializer):
    """One row of the stock query (``inventory.selectors.stock.StockRow``)."""

    balance_id = serializers.IntegerField(allow_null=True)
    goods_id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    unit = serializers.CharField()
    warehouse_code = serializers.CharField()
    bin_id = serializers.IntegerField(allow_null=True)
    bin_code = serializers.CharField()
    zone_code = serializers.CharField()
    batch_no = serializers.CharField()
    expiry_date = serializers.DateField(allow_null=True)
    on_hand = serializers.IntegerField()
    frozen = serializers.IntegerField()
    reserved = serializers.IntegerField()
    available = serializers.IntegerField()
    in_transit = serializers.IntegerField()


class BalancePageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = BalanceRowSerializer(many=True)


class MovementSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="goods.sku", read_only=True)
    warehouse_code = serializers.CharField(source="warehouse.code", read_only=True)
    bin_code = serializers.CharField(source="bin.code", read_only=True)
    batch_no = serializers.SerializerMethodField()
    operator = serializers.SerializerMethodField()

    class Meta:
        model = StockMovement
        fields = [
            "id",
            "kind",
            "goods",
            "sku",
            "warehouse",
            "warehouse_code",
            "bin",
            "bin_code",
            "batch",
            "batch_no",
            "quantity",
            "on_hand_delta",
            "frozen_delta",
            "reserved_delta",
            "document_type",
            "document_id",
            "document_ref",
            "operator",
            "reason",
            "created_at",
        ]

    def get_batch_no(self, obj) -> str:
        return obj.batch.batch_no if obj.batch_id else ""

    def get_operator(self, obj) -> str:
        return obj.operator.get_username() if obj.operator_id else ""


class MovementPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = MovementSerializer(many=True)


class InboundLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = InboundLine
        fields = ["id", "goods", "bin", "batch", "quantity"]


class OutboundLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OutboundLine
        fields = ["id", "goods", "bin", "batch", "quantity", "from_frozen"]


_SHEET_FIELDS = [
    "id",
    "number",
    "type",
    "status",
    "warehouse",
    "reference",
    "note",
    "created_at",
    "posted_at",
    "reversal_of",
    "lines",
]


class InboundSheetSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    lines = InboundLineSerializer(many=True, read_only=True)

    class Meta:
        model = InboundSheet
        fields = _SHEET_FIELDS


class OutboundSheetSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    lines = OutboundLineSerializer(many=True, read_only=True)

    class Meta:
        model = OutboundSheet
        fields = [*_SHEET_FIELDS, "allow_expired", "expired_reason"]


class InboundSheetInput(StrictSerializer):
    warehouse = serializers.PrimaryKeyRelatedField(queryset=Warehouse.objects.all())
    type = serializers.ChoiceField(choices=InboundSheet.Type.choices)
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class OutboundSheetInput(InboundSheetInput):
    type = serializers.ChoiceField(choices=OutboundSheet.Type.choices)
    allow_expired = serializers.BooleanField(required=False, default=False)
    expired_reason = serializers.CharField(
        max_length=255, required=False, allow_blank=True, default=""
    )


class InboundLineInput(StrictSerializer):
    goods = serializers.PrimaryKeyRelatedField(queryset=Goods.objects.all())
    bin = serializers.PrimaryKeyRelatedField(queryset=Bin.objects.all())
    quantity = QuantityField()
    batch_no = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    production_date = serializers.DateField(required=False, allow_null=True, default=None)
    expiry_date = serializers.DateField(required=False, allow_null=True, default=None)


class OutboundLineInput(StrictSerializer):
    goods = serializers.PrimaryKeyRelatedField(queryset=Goods.objects.all())
    quantity = QuantityField()
    bin = serializers.PrimaryKeyRelatedField(
        queryset=Bin.objects.all(), required=False, allow_null=True, default=None
    )
    batch = serializers.PrimaryKeyRelatedField(
        queryset=Batch.objects.all(), required=False, allow_null=True, default=None
    )
    from_frozen = serializers.BooleanField(required=False, default=False)


class ShipmentInput(OutboundSheetInput):
    """A whole outbound sheet in one request: created, its lines added and posted, in one
    transaction (what an ERP shipping an order sends)."""

    type = serializers.ChoiceField(
        choices=OutboundSheet.Type.choices, default=OutboundSheet.Type.ORDER_SHIPMENT
    )
    lines = OutboundLineInput(many=True, allow_empty=False, max_length=500)


class ReceiptInput(InboundSheetInput):
    """A whole inbound sheet in one request: created, lines added and posted at once."""

    type = serializers.ChoiceField(
        choices=InboundSheet.Type.choices, default=InboundSheet.Type.PURCHASE
    )
    lines = InboundLineInput(many=True, allow_empty=False, max_length=500)


class ReasonInput(StrictSerializer):
    reason = serializers.CharField(max_length=255)


class TransferLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = StockTransferLine
        fields = [
            "id",
            "goods",
            "batch",
            "from_bin",
            "to_bin",
            "quantity",
            "received_quantity",
            "discrepancy_reason",
        ]


class TransferSerializer(serializers.ModelSerializer):
    lines = TransferLineSerializer(many=True, read_only=True)

    class Meta:
        model = StockTransfer
        fields = [
            "id",
            "kind",
            "status",
            "from_warehouse",
            "to_warehouse",
            "note",
            "created_at",
            "shipped_at",
            "received_at",
            "lines",
        ]


class BinTransferInput(StrictSerializer):
    goods = serializers.PrimaryKeyRelatedField(queryset=Goods.objects.all())
    from_bin = serializers.PrimaryKeyRelatedField(queryset=Bin.objects.all())
    to_bin = serializers.PrimaryKeyRelatedField(queryset=Bin.objects.all())
    quantity = QuantityField()
    batch = serializers.PrimaryKeyRelatedField(
        queryset=Batch.objects.all(), required=False, allow_null=True, default=None
    )
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class WarehouseTransferInput(StrictSerializer):
    from_warehouse = serializers.PrimaryKeyRelatedField(queryset=Warehouse.objects.all())
    to_warehouse = serializers.PrimaryKeyRelatedField(queryset=Warehouse.objects.all())
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class TransferLineInput(StrictSerializer):
    goods = serializers.PrimaryKeyRelatedField(queryset=Goods.objects.all())
    from_bin = serializers.PrimaryKeyRelatedField(queryset=Bin.objects.all())
    quantity = QuantityField()
    batch = serializers.PrimaryKeyRelatedField(
        queryset=Batch.objects.all(), required=False, allow_null=True, default=None
    )


class ReceivedLineInput(StrictSerializer):
    line = serializers.IntegerField(min_value=1)
    to_bin = serializers.PrimaryKeyRelatedField(queryset=Bin.objects.all())
    quantity = serializers.IntegerField(min_value=0, max_value=2_000_000_000)
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class TransferReceiveInput(StrictSerializer):
    lines = ReceivedLineInput(many=True, allow_empty=False, max_length=500)


class CountLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = StockCountLine
        fields = ["id", "goods", "batch", "bin", "counted_quantity", "expected_quantity"]


class CountSerializer(serializers.ModelSerializer):
    lines = CountLineSerializer(many=True, read_only=True)

    class Meta:
        model = StockCount
        fields = ["id", "status", "warehouse", "reason", "note", "created_at", "posted_at", "lines"]


class CountInput(StrictSerializer):
    warehouse = serializers.PrimaryKeyRelatedField(queryset=Warehouse.objects.all())
    reason = serializers.CharField(max_length=255)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class CountLineInput(StrictSerializer):
    goods = serializers.PrimaryKeyRelatedField(queryset=Goods.objects.all())
    bin = serializers.PrimaryKeyRelatedField(queryset=Bin.objects.all())
    counted = serializers.IntegerField(min_value=0, max_value=2_000_000_000)
    batch = serializers.PrimaryKeyRelatedField(
        queryset=Batch.objects.all(), required=False, allow_null=True, default=None
    )


# --------------------------------------------------------------------------------------------
# Freezes
# --------------------------------------------------------------------------------------------


class FreezeLineSerializer(serializers.ModelSerializer):
    held = serializers.IntegerField(read_only=True)

    class Meta:
        model = FreezeLine
        fields = ["id", "balance", "goods", "warehouse", "quantity", "released", "shipped", "held"]


class FreezeSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)

    class Meta:
        model = Freeze
        fields = [
            "id",
            "number",
            "status",
            "reason",
            "note",
            "warehouse",
            "goods",
            "batch",
            "bin",
            "category",
            "brand",
            "inbound_from",
            "inbound_to",
            "produced_from",
            "produced_to",
            "requested_quantity",
            "is_sticky",
            "release_on_qc_pass",
            "release_at",
            "created_at",
            "closed_at",
        ]


class FreezeDetailSerializer(FreezeSerializer):
    lines = FreezeLineSerializer(many=True, read_only=True)

    class Meta(FreezeSerializer.Meta):
        fields = [*FreezeSerializer.Meta.fields, "lines"]


class ScopeInput(StrictSerializer):
    warehouse = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    goods = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    batch = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    bin = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    category = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    brand = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    inbound_from = serializers.DateField(required=False, allow_null=True, default=None)
    inbound_to = serializers.DateField(required=False, allow_null=True, default=None)
    produced_from = serializers.DateField(required=False, allow_null=True, default=None)
    produced_to = serializers.DateField(required=False, allow_null=True, default=None)


class FreezeInput(StrictSerializer):
    scope = ScopeInput()
    reason = serializers.ChoiceField(choices=Reason.choices)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    quantity = QuantityField(required=False, allow_null=True, default=None)
    is_sticky = serializers.BooleanField(required=False, default=False)
    release_on_qc_pass = serializers.BooleanField(required=False, default=False)
    release_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class PreviewInput(StrictSerializer):
    scope = ScopeInput()
    quantity = QuantityField(required=False, allow_null=True, default=None)


class PreviewRowSerializer(serializers.Serializer):
    balance_id = serializers.IntegerField()
    sku = serializers.CharField()
    warehouse_code = serializers.CharField()
    bin_code = serializers.CharField()
    batch_no = serializers.CharField()
    available = serializers.IntegerField()
    to_freeze = serializers.IntegerField()


class PreviewSerializer(serializers.Serializer):
    balances = serializers.IntegerField()
    on_hand = serializers.IntegerField()
    available = serializers.IntegerField()
    to_freeze = serializers.IntegerField()
    shortfall = serializers.IntegerField()
    more_rows = serializers.IntegerField()
    rows = PreviewRowSerializer(many=True)


class ReleaseRequestSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReleaseRequest
        fields = [
            "id",
            "freeze",
            "line",
            "quantity",
            "reason",
            "status",
            "requested_at",
            "decided_at",
            "comment",
            "released_quantity",
        ]


class ReleaseRequestInput(StrictSerializer):
    reason = serializers.CharField(max_length=2000)
    quantity = QuantityField(required=False, allow_null=True, default=None)
    line = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)


class DecisionInput(StrictSerializer):
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class InspectionSerializer(serializers.ModelSerializer):
    class Meta:
        model = QualityInspection
        fields = [
            "id",
            "freeze",
            "batch",
            "result",
            "passed_quantity",
            "failed_quantity",
            "note",
            "released_quantity",
            "created_at",
        ]


class InspectionInput(StrictSerializer):
    result = serializers.ChoiceField(choices=QualityInspection.Result.choices)
    passed = serializers.IntegerField(
        min_value=0, max_value=2_000_000_000, required=False, default=0
    )
    failed = serializers.IntegerField(
        min_value=0, max_value=2_000_000_000, required=False, default=0
    )
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class FreezeEventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()

    class Meta:
        model = FreezeEvent
        fields = [
            "id",
            "freeze",
            "kind",
            "actor",
            "quantity",
            "reason",
            "comment",
            "document_ref",
            "request",
            "inspection",
            "created_at",
        ]

    def get_actor(self, obj) -> str:
        return obj.actor.get_username() if obj.actor_id else ""
