"""Writes of the warehouse structure (warehouses, zones, bins: create, update, deactivate,
reactivate) and of the catalogue's categories and brands (create, update).

Warehouses, zones and bins are validated by the warehouse screens' own forms
(``warehouses.forms``) and written by ``warehouses.services`` with the screens' permissions;
a bin a guard keeps active (stock on it, a pool reserving from it) is 409.
Categories and brands have no screen of their own besides the admin: they are validated by
the model's own rules (the admin's model form: lengths, unique names, unique under a parent)
and a category cannot be moved under itself. They have no active flag to deactivate."""

from __future__ import annotations

from django import forms
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from api.serializers_base import StrictSerializer
from api.v1 import catalogue
from api.v1 import serializers as s
from api.v1.base import bound_form, parse_form
from inventory.models import Brand, Category
from warehouses import selectors as warehouse_selectors
from warehouses import services as warehouse_services
from warehouses.forms import BinForm, WarehouseForm, ZoneForm
from warehouses.models import Warehouse, Zone

# -- request bodies (documentation; the forms validate) -----------------------------------------


class WarehouseInput(StrictSerializer):
    code = serializers.CharField(max_length=32)
    name = serializers.CharField(max_length=200)
    address = serializers.CharField(required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, required=False, allow_null=True
    )
    longitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, required=False, allow_null=True
    )
    priority = serializers.IntegerField(min_value=0, max_value=32767)


class ZoneInput(StrictSerializer):
    code = serializers.CharField(max_length=32)
    name = serializers.CharField(max_length=200)
    type = serializers.ChoiceField(choices=Zone.Type.choices)


class ZoneCreateInput(ZoneInput):
    warehouse = serializers.IntegerField(min_value=1)


class BinInput(StrictSerializer):
    zone = serializers.IntegerField(min_value=1)
    code = serializers.CharField(max_length=64)


class CategoryInput(StrictSerializer):
    name = serializers.CharField(max_length=200)
    parent = serializers.IntegerField(min_value=1, required=False, allow_null=True)


class BrandInput(StrictSerializer):
    name = serializers.CharField(max_length=200)


class ZoneCreateForm(ZoneForm):
    warehouse = forms.ModelChoiceField(queryset=Warehouse.objects.all())


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ["name", "parent"]

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        node, seen = parent, set()
        while node is not None and self.instance.pk is not None and node.pk not in seen:
            if node.pk == self.instance.pk:
                raise forms.ValidationError(_("A category cannot sit under itself."))
            seen.add(node.pk)
            node = node.parent
        return parent


class BrandForm(forms.ModelForm):
    class Meta:
        model = Brand
        fields = ["name"]


WAREHOUSE_EXAMPLE = OpenApiExample(
    "Sydney",
    request_only=True,
    value={
        "code": "SYD",
        "name": "Sydney DC",
        "address": "1 Dock Rd, Botany NSW",
        "email": "syd@example.com",
        "latitude": "-33.946100",
        "longitude": "151.196400",
        "priority": 10,
    },
)


# -- warehouses ---------------------------------------------------------------------------------


@extend_schema_view(
    create=extend_schema(
        summary="Create a warehouse",
        description="The warehouse screen's form and service. 409 when the "
        "code is taken in any letter case.",
        request=WarehouseInput,
        responses={201: s.WarehouseSerializer},
        examples=[WAREHOUSE_EXAMPLE],
    ),
    update=extend_schema(
        summary="Change a warehouse",
        description="Every editable field (not the active flag: deactivate / reactivate).",
        request=WarehouseInput,
        responses={200: s.WarehouseSerializer},
        examples=[WAREHOUSE_EXAMPLE],
    ),
    deactivate=extend_schema(
        summary="Deactivate a warehouse",
        description="409 while one of its bins must stay active (stock on it).",
        request=None,
        responses={200: s.WarehouseSerializer},
    ),
    reactivate=extend_schema(
        summary="Reactivate a warehouse",
        description="Use it again; its zones and bins keep their own active flags.",
        request=None,
        responses={200: s.WarehouseSerializer},
    ),
)
class WarehouseViewSet(catalogue.WarehouseViewSet):
    required_perms = {
        **catalogue.WarehouseViewSet.required_perms,
        "create": ("warehouses.add_warehouse",),
        "update": ("warehouses.change_warehouse",),
        "deactivate": ("warehouses.change_warehouse",),
        "reactivate": ("warehouses.change_warehouse",),
    }

    def _warehouse(self) -> Warehouse:
        found = warehouse_selectors.warehouse_get(user=self.request.user, pk=self.object_id())
        if found is None:
            raise Http404
        return found

    def create(self, request):
        made = warehouse_services.warehouse_create(**parse_form(WarehouseForm, request.data))
        return Response(s.WarehouseSerializer(made).data, status=status.HTTP_201_CREATED)

    def update(self, request, pk=None):
        warehouse = self._warehouse()
        changed = warehouse_services.warehouse_update(
            warehouse=warehouse, **parse_form(WarehouseForm, request.data)
        )
        return Response(s.WarehouseSerializer(changed).data)

    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        done = warehouse_services.warehouse_deactivate(warehouse=self._warehouse())
        return Response(s.WarehouseSerializer(done).data)

    @action(detail=True, methods=["post"])
    def reactivate(self, request, pk=None):
        done = warehouse_services.warehouse_reactivate(warehouse=self._warehouse())
        return Response(s.WarehouseSerializer(done).data)


# -- zones --------------------------------------------------------------------------------------


@extend_schema_view(
    create=extend_schema(
        summary="Add a zone",
        description="A picking or storage zone of a warehouse. 409 when the "
        "warehouse has a zone with that code.",
        request=ZoneCreateInput,
        responses={201: s.ZoneSerializer},
        examples=[
            OpenApiExample(
                "Pick face",
                request_only=True,
                value={"warehouse": 1, "code": "PICK", "name": "Pick face", "type": "picking"},
            )
        ],
    ),
    update=extend_schema(
        summary="Change a zone",
        description="Code, name and type (it stays in its warehouse).",
        request=ZoneInput,
        responses={200: s.ZoneSerializer},
        examples=[
            OpenApiExample(
                "Storage",
                request_only=True,
                value={"code": "BULK", "name": "Bulk storage", "type": "storage"},
            )
        ],
    ),
)
class ZoneViewSet(catalogue.ZoneViewSet):
    required_perms = {
        **catalogue.ZoneViewSet.required_perms,
        "create": ("warehouses.add_zone",),
        "update": ("warehouses.change_zone",),
    }

    def create(self, request):
        data = parse_form(ZoneCreateForm, request.data)
        zone = warehouse_services.zone_create(**data)
        return Response(s.ZoneSerializer(zone).data, status=status.HTTP_201_CREATED)

    def update(self, request, pk=None):
        zone = warehouse_selectors.zone_get(user=request.user, pk=self.object_id())
        if zone is None:
            raise Http404
        changed = warehouse_services.zone_update(zone=zone, **parse_form(ZoneForm, request.data))
        return Response(s.ZoneSerializer(changed).data)


# -- bins ---------------------------------------------------------------------------------------


class BinCreateInput(BinInput):
    warehouse = serializers.IntegerField(min_value=1)


@extend_schema_view(
    create=extend_schema(
        summary="Add a bin",
        description="A bin in a zone of the warehouse (400 when the zone is another "
        "warehouse's). 409 when the warehouse has a bin with that code.",
        request=BinCreateInput,
        responses={201: s.BinSerializer},
        examples=[
            OpenApiExample(
                "Bin", request_only=True, value={"warehouse": 1, "zone": 2, "code": "A-01-01"}
            )
        ],
    ),
    update=extend_schema(
        summary="Change a bin",
        description="Its code, or move it to another zone of its warehouse.",
        request=BinInput,
        responses={200: s.BinSerializer},
        examples=[
            OpenApiExample("Recode", request_only=True, value={"zone": 2, "code": "A-01-02"})
        ],
    ),
    deactivate=extend_schema(
        summary="Deactivate a bin",
        description="409 while it must stay active (stock on it).",
        request=None,
        responses={200: s.BinSerializer},
    ),
    reactivate=extend_schema(
        summary="Reactivate a bin",
        description="Make the bin usable again for receipts and transfers.",
        request=None,
        responses={200: s.BinSerializer},
    ),
)
class BinViewSet(catalogue.BinViewSet):
    required_perms = {
        **catalogue.BinViewSet.required_perms,
        "create": ("warehouses.add_bin",),
        "update": ("warehouses.change_bin",),
        "deactivate": ("warehouses.change_bin",),
        "reactivate": ("warehouses.change_bin",),
    }

    def _bin(self):
        found = warehouse_selectors.bin_get(user=self.request.user, pk=self.object_id())
        if found is None:
            raise Http404
        return found

    def create(self, request):
        if not isinstance(request.data, dict):
            raise serializers.ValidationError({"non_field_errors": [_("Send a JSON object.")]})
        data = dict(request.data)
        raw = data.pop("warehouse", None)
        warehouse = None
        if isinstance(raw, int) and not isinstance(raw, bool):
            warehouse = warehouse_selectors.warehouse_get(user=request.user, pk=raw)
        if warehouse is None:
            raise serializers.ValidationError({"warehouse": [_("Choose a warehouse.")]})
        made = warehouse_services.bin_create(
            warehouse=warehouse, **parse_form(BinForm, data, warehouse=warehouse)
        )
        return Response(s.BinSerializer(made).data, status=status.HTTP_201_CREATED)

    def update(self, request, pk=None):
        bin_ = self._bin()
        data = parse_form(BinForm, request.data, warehouse=bin_.warehouse)
        return Response(s.BinSerializer(warehouse_services.bin_update(bin=bin_, **data)).data)

    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        return Response(s.BinSerializer(warehouse_services.bin_deactivate(bin=self._bin())).data)

    @action(detail=True, methods=["post"])
    def reactivate(self, request, pk=None):
        return Response(s.BinSerializer(warehouse_services.bin_reactivate(bin=self._bin())).data)


# -- categories and brands ----------------------------------------------------------------------


def _model_form_save(form_class, data, instance=None):
    return bound_form(form_class, data, instance=instance).save()


@extend_schema_view(
    create=extend_schema(
        summary="Create a category",
        description="Under `parent` (or at the top). Names are unique under one parent.",
        request=CategoryInput,
        responses={201: s.CategorySerializer},
        examples=[
            OpenApiExample("Lipsticks", request_only=True, value={"name": "Lipsticks", "parent": 1})
        ],
    ),
    update=extend_schema(
        summary="Rename or move a category",
        description="A category cannot be moved under itself or one of its sub-categories.",
        request=CategoryInput,
        responses={200: s.CategorySerializer},
        examples=[
            OpenApiExample("Rename", request_only=True, value={"name": "Lip colour", "parent": 1})
        ],
    ),
)
class CategoryViewSet(catalogue.CategoryViewSet):
    required_perms = {
        **catalogue.CategoryViewSet.required_perms,
        "create": ("inventory.add_category",),
        "update": ("inventory.change_category",),
    }

    def create(self, request):
        made = _model_form_save(CategoryForm, request.data)
        return Response(s.CategorySerializer(made).data, status=status.HTTP_201_CREATED)

    def update(self, request, pk=None):
        found = Category.objects.filter(pk=self.object_id()).first()
        if found is None:
            raise Http404
        return Response(
            s.CategorySerializer(_model_form_save(CategoryForm, request.data, found)).data
        )


@extend_schema_view(
    create=extend_schema(
        summary="Create a brand",
        description="Brand names are unique.",
        request=BrandInput,
        responses={201: s.BrandSerializer},
        examples=[OpenApiExample("Brand", request_only=True, value={"name": "Rouge Co"})],
    ),
    update=extend_schema(
        summary="Rename a brand",
        description="Names are unique (400 when taken).",
        request=BrandInput,
        responses={200: s.BrandSerializer},
        examples=[OpenApiExample("Rename", request_only=True, value={"name": "Rouge & Co"})],
    ),
)
class BrandViewSet(catalogue.BrandViewSet):
    required_perms = {
        **catalogue.BrandViewSet.required_perms,
        "create": ("inventory.add_brand",),
        "update": ("inventory.change_brand",),
    }

    def create(self, request):
        made = _model_form_save(BrandForm, request.data)
        return Response(s.BrandSerializer(made).data, status=status.HTTP_201_CREATED)

    def update(self, request, pk=None):
        found = Brand.objects.filter(pk=self.object_id()).first()
        if found is None:
            raise Http404
        return Response(s.BrandSerializer(_model_form_save(BrandForm, request.data, found)).data)
