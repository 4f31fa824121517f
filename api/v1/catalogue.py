"""Goods (with combo components and batches), categories, brands, warehouses, zones, bins.
Reads go through the catalogue selectors, writes through ``inventory.services.goods``."""

from __future__ import annotations

from django import forms
from django.http import Http404
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from api.v1 import serializers as s
from api.v1.base import ApiViewSet
from inventory.models import Brand, Category, Goods
from inventory.selectors import goods as goods_selectors
from inventory.services import goods as goods_services
from warehouses import selectors as warehouse_selectors
from warehouses.models import Warehouse, Zone
from wms.http import parse_id


def text_param(request, name: str) -> str:
    """A free-text query parameter ("" when absent); a NUL character (which PostgreSQL cannot
    compare) is 400 with the field's message, as the FilterSets' CharFields answer."""
    raw = request.query_params.get(name) or ""
    try:
        forms.CharField(required=False, strip=False).clean(raw)
    except forms.ValidationError as error:
        raise ValidationError({name: list(error.messages)}) from error
    return raw


#: The combo editor screen's permissions (``inventory.views.goods.COMBO_PERMS``).
COMBO_PERMS = (
    "inventory.change_goods",
    "inventory.add_combocomponent",
    "inventory.change_combocomponent",
    "inventory.delete_combocomponent",
)

GOODS_EXAMPLE = OpenApiExample(
    "Lipstick",
    value={
        "sku": "LIP-001",
        "name": "Velvet lipstick, ruby",
        "barcode": "6901234567892",
        "category": None,
        "brand": None,
        "unit": "pcs",
        "weight": "0.050",
        "volume": None,
        "shelf_life_days": 730,
        "is_active": True,
    },
    request_only=True,
)


@extend_schema_view(
    list=extend_schema(
        summary="List goods",
        description="Goods newest first. `q` matches SKU or barcode exactly, a SKU prefix or "
        "part of the name; `is_active` narrows to active or inactive goods.",
        parameters=[
            OpenApiParameter("q", str, description="SKU, barcode or name"),
            OpenApiParameter("is_active", bool),
        ],
    ),
    retrieve=extend_schema(
        summary="One goods",
        description="With its combo components and batches.",
        responses={200: s.GoodsDetailSerializer},
    ),
    create=extend_schema(
        summary="Create goods",
        description="Refused with 409 `duplicate_sku` / `duplicate_barcode` when taken.",
        request=s.GoodsInput,
        responses={201: s.GoodsDetailSerializer},
        examples=[GOODS_EXAMPLE],
    ),
    update=extend_schema(
        summary="Replace goods",
        description="Every editable field; the combo flag belongs to the components.",
        request=s.GoodsInput,
        responses={200: s.GoodsDetailSerializer},
        examples=[GOODS_EXAMPLE],
    ),
)
class GoodsViewSet(ApiViewSet):
    queryset = Goods.objects.none()
    serializer_class = s.GoodsSerializer
    required_perms = {
        "list": ("inventory.view_goods",),
        "retrieve": ("inventory.view_goods",),
        "create": ("inventory.add_goods",),
        "update": ("inventory.change_goods",),
        "components": ("inventory.view_goods", *COMBO_PERMS),
        "component_remove": ("inventory.view_goods", *COMBO_PERMS),
        "batches": ("inventory.view_goods", "inventory.view_batch", "inventory.add_batch"),
    }

    def get_queryset(self):
        queryset = goods_selectors.goods_queryset()
        text = text_param(self.request, "q").strip()[:100]
        if text:
            queryset = goods_selectors.goods_search(queryset, text)
        active = self.request.query_params.get("is_active")
        if active in ("true", "false"):
            queryset = queryset.filter(is_active=active == "true")
        return queryset

    def _goods(self):
        goods = goods_selectors.goods_get(self.object_id())
        if goods is None:
            raise Http404
        return goods

    def _detail(self, goods, code=status.HTTP_200_OK) -> Response:
        goods = (
            goods_selectors.goods_queryset()
            .prefetch_related("components__component", "batches")
            .get(pk=goods.pk)
        )
        return Response(s.GoodsDetailSerializer(goods).data, status=code)

    def list(self, request):
        return self.paged(self.get_queryset(), s.GoodsSerializer)

    def retrieve(self, request, pk=None):
        return self._detail(self._goods())

    def create(self, request):
        goods = goods_services.goods_create(**self.parse(s.GoodsInput))
        return self._detail(goods, status.HTTP_201_CREATED)

    def update(self, request, pk=None):
        goods = goods_services.goods_update(goods=self._goods(), **self.parse(s.GoodsInput))
        return self._detail(goods)

    @extend_schema(
        summary="Set a combo component",
        description="Make this goods a combo of `component` x `quantity` (or change the "
        "quantity). Refused with `combo_loop` when the combo would contain itself.",
        request=s.ComponentInput,
        responses={200: s.GoodsDetailSerializer},
        examples=[
            OpenApiExample("Case of 4", value={"component": 12, "quantity": 4}, request_only=True)
        ],
    )
    @action(detail=True, methods=["post"])
    def components(self, request, pk=None):
        data = self.parse(s.ComponentInput)
        goods_services.combo_component_set(
            combo=self._goods(), component=data["component"], quantity=data["quantity"]
        )
        return self._detail(self._goods())

    @extend_schema(
        summary="Remove a combo component",
        description="The combo keeps its other components; without any it is a plain goods.",
        request=None,
        responses={200: s.GoodsDetailSerializer},
    )
    @action(
        detail=True,
        methods=["delete"],
        url_path="components/<int:component_id>",
    )
    def component_remove(self, request, pk=None, component_id=None):
        goods = self._goods()
        component = goods_selectors.goods_get(parse_id(component_id) or 0)
        if component is None:
            raise Http404
        goods_services.combo_component_remove(combo=goods, component=component)
        return self._detail(goods)

    @extend_schema(
        summary="Add a batch",
        description="A batch of this goods; the expiry date defaults to production date + "
        "shelf life. 409 `duplicate_batch` when the number exists for this goods.",
        request=s.BatchInput,
        responses={201: s.BatchSerializer},
        examples=[
            OpenApiExample(
                "Batch",
                value={"batch_no": "2026-11-A", "production_date": "2026-11-01"},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def batches(self, request, pk=None):
        batch = goods_services.batch_create(goods=self._goods(), **self.parse(s.BatchInput))
        return Response(s.BatchSerializer(batch).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="List categories", description="Every category, with its parent."),
)
class CategoryViewSet(ApiViewSet):
    serializer_class = s.CategorySerializer
    required_perms = {"list": ("inventory.view_category",)}

    def get_queryset(self):
        return Category.objects.all()

    def list(self, request):
        return self.paged(self.get_queryset(), s.CategorySerializer)


@extend_schema_view(list=extend_schema(summary="List brands", description="Every brand."))
class BrandViewSet(ApiViewSet):
    serializer_class = s.BrandSerializer
    required_perms = {"list": ("inventory.view_brand",)}

    def get_queryset(self):
        return Brand.objects.all()

    def list(self, request):
        return self.paged(self.get_queryset(), s.BrandSerializer)


@extend_schema_view(
    list=extend_schema(
        summary="List warehouses",
        description="`q` matches code, name or address.",
        parameters=[OpenApiParameter("q", str), OpenApiParameter("is_active", bool)],
    ),
    retrieve=extend_schema(summary="One warehouse", description="A warehouse by id."),
)
class WarehouseViewSet(ApiViewSet):
    queryset = Warehouse.objects.none()
    serializer_class = s.WarehouseSerializer
    required_perms = {
        "list": ("warehouses.view_warehouse",),
        "retrieve": ("warehouses.view_warehouse",),
    }

    def get_queryset(self):
        active = self.request.query_params.get("is_active")
        return warehouse_selectors.warehouse_list(
            user=self.request.user,
            search=text_param(self.request, "q")[:100],
            is_active={"true": True, "false": False}.get(active),
        )

    def list(self, request):
        return self.paged(self.get_queryset(), s.WarehouseSerializer)

    def retrieve(self, request, pk=None):
        warehouse = warehouse_selectors.warehouse_get(user=request.user, pk=self.object_id())
        if warehouse is None:
            raise Http404
        return Response(s.WarehouseSerializer(warehouse).data)


@extend_schema_view(
    list=extend_schema(
        summary="List zones",
        description="Zones, optionally of one warehouse.",
        parameters=[OpenApiParameter("warehouse", int)],
    ),
)
class ZoneViewSet(ApiViewSet):
    serializer_class = s.ZoneSerializer
    required_perms = {"list": ("warehouses.view_zone",)}

    def get_queryset(self):
        queryset = Zone.objects.all()
        warehouse = self.request.query_params.get("warehouse")
        if warehouse is not None:
            queryset = queryset.filter(warehouse_id=parse_id(warehouse) or 0)
        return queryset

    def list(self, request):
        return self.paged(self.get_queryset(), s.ZoneSerializer)


@extend_schema_view(
    list=extend_schema(
        summary="List bins",
        description="The bin lookup: `code` prefix, `warehouse`, `zone_type`, `is_active`.",
        parameters=[
            OpenApiParameter("code", str),
            OpenApiParameter("warehouse", int),
            OpenApiParameter("zone_type", str, enum=Zone.Type.values),
            OpenApiParameter("is_active", bool),
        ],
    ),
)
class BinViewSet(ApiViewSet):
    serializer_class = s.BinSerializer
    required_perms = {"list": ("warehouses.view_bin",)}

    def get_queryset(self):

        params = self.request.query_params
        warehouse = params.get("warehouse")
        zone_type = params.get("zone_type") or ""
        return warehouse_selectors.bin_lookup(
            user=self.request.user,
            code=text_param(self.request, "code")[:64],
            warehouse=(parse_id(warehouse) or 0) if warehouse is not None else None,
            zone_type=zone_type if zone_type in Zone.Type.values else "",
            is_active={"true": True, "false": False}.get(params.get("is_active")),
        )

    def list(self, request):
        return self.paged(self.get_queryset(), s.BinSerializer)
