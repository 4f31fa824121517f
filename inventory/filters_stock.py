"""django-filter FilterSets of the stock query and the ledger screen (parsing only).

They narrow the querysets of ``inventory.selectors.stock``; ordering, grouping and keyset
pagination are the selectors' job, so a screen, its export and a direct selector call agree.
"""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.models import (
    Brand,
    Category,
    DocumentStatus,
    StockBalance,
    StockMovement,
    StockTransfer,
)
from inventory.selectors.goods import category_descendant_ids, goods_with_code
from warehouses.models import Warehouse, Zone
from wms.http import parse_id

GROUPS = [
    ("bin", _("Per bin and batch")),
    ("goods", _("Per goods")),
    ("warehouse", _("Per warehouse")),
    ("batch", _("Per batch")),
]


def _goods_search(queryset, prefix: str, value: str):
    """SKU or barcode exactly (any case), or SKU starting with / name containing the text."""
    value = (value or "").strip()
    if not value:
        return queryset
    return queryset.filter(
        Q(**{f"{prefix}sku__iexact": value})
        | Q(**{f"{prefix}barcode": value})
        | Q(**{f"{prefix}sku__istartswith": value})
        | Q(**{f"{prefix}name__icontains": value})
    )


class StockFilter(django_filters.FilterSet):
    """Filters of the stock query (库存查询), applied to balance rows before any grouping."""

    q = django_filters.CharFilter(
        method="filter_goods",
        label=_("Goods"),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("SKU, barcode or name")}),
    )
    warehouse = django_filters.ModelChoiceFilter(
        field_name="warehouse",
        label=_("Warehouse"),
        queryset=Warehouse.objects.order_by("code"),
        empty_label=_("All warehouses"),
    )
    zone_type = django_filters.ChoiceFilter(
        field_name="bin__zone__type",
        label=_("Zone type"),
        choices=Zone.Type.choices,
        empty_label=_("Any zone type"),
    )
    category = django_filters.ModelChoiceFilter(
        method="filter_category",
        label=_("Category"),
        queryset=Category.objects.order_by("name"),
        empty_label=_("All categories"),
    )
    brand = django_filters.ModelChoiceFilter(
        field_name="goods__brand",
        label=_("Brand"),
        queryset=Brand.objects.order_by("name"),
        empty_label=_("All brands"),
    )
    expiry_before = django_filters.DateFilter(
        field_name="batch__expiry_date",
        lookup_expr="lt",
        label=_("Expiry before"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    has_frozen = django_filters.BooleanFilter(
        method="filter_has_frozen",
        label=_("Frozen stock"),
        widget=forms.Select(choices=[("", _("Any")), ("true", _("Has frozen units"))]),
    )
    include_empty = django_filters.BooleanFilter(
        method="filter_include_empty",
        label=_("Empty rows"),
        widget=forms.Select(choices=[("", _("Hide empty")), ("true", _("Show empty"))]),
    )
    group = django_filters.ChoiceFilter(
        method="filter_nothing", label=_("Show"), choices=GROUPS, empty_label=None
    )

    class Meta:
        model = StockBalance
        fields: list[str] = []

    def filter_goods(self, queryset, name, value):
        return _goods_search(queryset, "goods__", value)

    def filter_category(self, queryset, name, value):
        return queryset.filter(goods__category_id__in=sorted(category_descendant_ids([value.pk])))

    def filter_has_frozen(self, queryset, name, value):
        # Per-balance here; grouped views apply it to the group totals (see the selector).
        if value and self.data.get("group", "bin") in ("", "bin"):
            return queryset.filter(frozen__gt=0)
        return queryset

    def filter_include_empty(self, queryset, name, value):
        return queryset

    def filter_nothing(self, queryset, name, value):
        return queryset

    @property
    def qs(self):
        queryset = super().qs
        data = self.form.cleaned_data if self.form.is_valid() else {}
        if not data.get("include_empty"):
            queryset = queryset.filter(on_hand__gt=0)
        return queryset

    @property
    def grouping(self) -> str:
        data = self.form.cleaned_data if self.form.is_valid() else {}
        return data.get("group") or "bin"

    @property
    def wants_frozen_groups(self) -> bool:
        data = self.form.cleaned_data if self.form.is_valid() else {}
        return bool(data.get("has_frozen")) and self.grouping != "bin"


class MovementFilter(django_filters.FilterSet):
    """Filters of the ledger screen (出入库流水)."""

    goods = django_filters.CharFilter(
        method="filter_goods",
        label=_("Goods"),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("SKU or barcode")}),
    )
    warehouse = django_filters.ModelChoiceFilter(
        field_name="warehouse",
        label=_("Warehouse"),
        queryset=Warehouse.objects.order_by("code"),
        empty_label=_("All warehouses"),
    )
    kind = django_filters.ChoiceFilter(
        field_name="kind",
        label=_("Kind"),
        choices=StockMovement.Kind.choices,
        empty_label=_("All kinds"),
    )
    document = django_filters.CharFilter(
        method="filter_document",
        label=_("Document"),
        widget=forms.TextInput(attrs={"placeholder": _("e.g. IN-000012")}),
    )
    operator = django_filters.CharFilter(
        method="filter_operator",
        label=_("Operator"),
        widget=forms.TextInput(attrs={"placeholder": _("User name")}),
    )
    date_from = django_filters.DateFilter(
        method="filter_date_from",
        label=_("From"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = django_filters.DateFilter(
        method="filter_date_to",
        label=_("To"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = StockMovement
        fields: list[str] = []

    def filter_goods(self, queryset, name, value):
        if not (value or "").strip():
            return queryset
        ids = list(goods_with_code(value).values_list("pk", flat=True))
        return queryset.filter(goods_id__in=ids)

    def filter_document(self, queryset, name, value):
        value = (value or "").strip().upper()
        return queryset.filter(document_ref=value) if value else queryset

    def filter_operator(self, queryset, name, value):
        value = (value or "").strip()
        if not value:
            return queryset
        ids = list(
            get_user_model().objects.filter(username__iexact=value).values_list("pk", flat=True)[:1]
        )
        return queryset.filter(operator_id__in=ids)

    def filter_date_from(self, queryset, name, value):
        return queryset.filter(created_at__gte=_start_of(value))

    def filter_date_to(self, queryset, name, value):
        if value >= datetime.date.max:
            return queryset
        return queryset.filter(created_at__lt=_start_of(value + datetime.timedelta(days=1)))


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class SheetFilter(django_filters.FilterSet):
    """Filters of the inbound and outbound sheet lists."""

    number = django_filters.CharFilter(
        method="filter_number",
        label=_("Number"),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("e.g. IN-000012")}),
    )
    warehouse = django_filters.ModelChoiceFilter(
        field_name="warehouse",
        label=_("Warehouse"),
        queryset=Warehouse.objects.order_by("code"),
        empty_label=_("All warehouses"),
    )
    type = django_filters.ChoiceFilter(
        field_name="type", label=_("Type"), empty_label=_("All types")
    )
    status = django_filters.ChoiceFilter(
        field_name="status",
        label=_("Status"),
        choices=DocumentStatus.choices,
        empty_label=_("Any status"),
    )
    reference = django_filters.CharFilter(
        field_name="reference", lookup_expr="icontains", label=_("Reference")
    )
    created_before = django_filters.DateFilter(
        field_name="created_at",
        lookup_expr="date__lt",
        label=_("Created before"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, type_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["type"].extra["choices"] = type_choices
        # The field puts the filter's empty label ("All types") first itself.
        self.form.fields["type"].choices = type_choices

    def filter_number(self, queryset, name, value):
        number = parse_id("".join(ch for ch in (value or "") if ch.isdigit()))
        return queryset.filter(pk=number) if number is not None else queryset


class TransferFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(
        field_name="kind", label=_("Kind"), choices=StockTransfer.Kind.choices, empty_label=_("All")
    )
    status = django_filters.ChoiceFilter(
        field_name="status",
        label=_("Status"),
        choices=StockTransfer.Status.choices,
        empty_label=_("Any status"),
    )
    warehouse = django_filters.ModelChoiceFilter(
        method="filter_warehouse",
        label=_("Warehouse"),
        queryset=Warehouse.objects.order_by("code"),
        empty_label=_("All warehouses"),
    )

    class Meta:
        model = StockTransfer
        fields: list[str] = []

    def filter_warehouse(self, queryset, name, value):
        return queryset.filter(Q(from_warehouse=value) | Q(to_warehouse=value))
