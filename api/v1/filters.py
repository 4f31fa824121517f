"""django-filter FilterSets of the allocation and platform sync endpoints: the filters their
screens offer (status, store, shop, window, goods, a day range, a text search), bound to the
query string by ``api.v1.base.filtered`` (invalid values: 400 with the filter's own messages)
and documented by ``filter_parameters``. They only narrow querysets the selectors already scoped."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from allocation.models import (
    GrabRequest,
    GrabWindow,
    ReplenishmentOrder,
    Store,
    StoreReturn,
    StoreSales,
)
from channels_sync.models import BindingChange, Listing, Order, Shop, SyncRecord
from inventory.models import Goods
from warehouses.models import Warehouse


def _text(queryset, fields: tuple[str, ...], value: str):
    value = (value or "").strip()[:100]
    if not value:
        return queryset
    condition = Q()
    for field in fields:
        condition |= Q(**{f"{field}__icontains": value})
    return queryset.filter(condition)


class StoreFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Code or name"), method="search", max_length=100)
    group = django_filters.CharFilter(label=_("Store group"), max_length=60)
    is_active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = Store
        fields: list[str] = []

    def search(self, queryset, name, value):
        return _text(queryset, ("code", "name"), value)


class WindowFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=GrabWindow.Status.choices, label=_("Status"))
    mode = django_filters.ChoiceFilter(choices=GrabWindow.Mode.choices, label=_("Mode"))
    warehouse = django_filters.ModelChoiceFilter(
        queryset=Warehouse.objects.all(), label=_("Source warehouse")
    )

    class Meta:
        model = GrabWindow
        fields: list[str] = []


class GrabRequestFilter(django_filters.FilterSet):
    window = django_filters.ModelChoiceFilter(
        queryset=GrabWindow.objects.all(), label=_("Grab window")
    )
    store = django_filters.ModelChoiceFilter(queryset=Store.objects.all(), label=_("Store"))
    status = django_filters.ChoiceFilter(choices=GrabRequest.Status.choices, label=_("Status"))

    class Meta:
        model = GrabRequest
        fields: list[str] = []


class ReplenishmentOrderFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=ReplenishmentOrder.Status.choices, label=_("Status")
    )
    store = django_filters.ModelChoiceFilter(queryset=Store.objects.all(), label=_("Store"))
    window = django_filters.ModelChoiceFilter(
        queryset=GrabWindow.objects.all(), label=_("Grab window")
    )

    class Meta:
        model = ReplenishmentOrder
        fields: list[str] = []


class StoreSalesFilter(django_filters.FilterSet):
    store = django_filters.ModelChoiceFilter(queryset=Store.objects.all(), label=_("Store"))
    goods = django_filters.ModelChoiceFilter(queryset=Goods.objects.all(), label=_("Goods"))
    day_from = django_filters.DateFilter(field_name="day", lookup_expr="gte", label=_("Day from"))
    day_to = django_filters.DateFilter(field_name="day", lookup_expr="lte", label=_("Day to"))

    class Meta:
        model = StoreSales
        fields: list[str] = []


class StoreReturnFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=StoreReturn.Status.choices, label=_("Status"))
    store = django_filters.ModelChoiceFilter(queryset=Store.objects.all(), label=_("Store"))
    order = django_filters.ModelChoiceFilter(
        queryset=ReplenishmentOrder.objects.all(), label=_("Replenishment order")
    )

    class Meta:
        model = StoreReturn
        fields: list[str] = []


class ShopFilter(django_filters.FilterSet):
    platform = django_filters.ChoiceFilter(
        choices=Shop._meta.get_field("platform").choices, label=_("Platform")
    )
    is_active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = Shop
        fields: list[str] = []


class ListingFilter(django_filters.FilterSet):
    shop = django_filters.ModelChoiceFilter(queryset=Shop.objects.all(), label=_("Shop"))
    status = django_filters.ChoiceFilter(choices=Listing.Status.choices, label=_("Status"))
    is_matched = django_filters.BooleanFilter(
        field_name="goods", lookup_expr="isnull", exclude=True, label=_("Linked to goods")
    )
    q = django_filters.CharFilter(label=_("SKU, title or barcode"), method="search", max_length=100)

    class Meta:
        model = Listing
        fields: list[str] = []

    def search(self, queryset, name, value):
        return _text(queryset, ("sku", "title", "barcode"), value)


class BindingChangeFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=BindingChange.Status.choices, label=_("Status"))

    class Meta:
        model = BindingChange
        fields: list[str] = []


class SyncRecordFilter(django_filters.FilterSet):
    shop = django_filters.ModelChoiceFilter(queryset=Shop.objects.all(), label=_("Shop"))
    status = django_filters.ChoiceFilter(choices=SyncRecord.Status.choices, label=_("Status"))
    trigger = django_filters.ChoiceFilter(choices=SyncRecord.Trigger.choices, label=_("Trigger"))
    q = django_filters.CharFilter(label=_("Listing or goods SKU"), method="search", max_length=100)

    class Meta:
        model = SyncRecord
        fields: list[str] = []

    def search(self, queryset, name, value):
        return _text(queryset, ("listing__sku", "goods__sku"), value)


class ChannelOrderFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Order.Status.choices, label=_("Status"))
    shop = django_filters.ModelChoiceFilter(queryset=Shop.objects.all(), label=_("Shop"))
    warehouse = django_filters.ModelChoiceFilter(
        queryset=Warehouse.objects.all(), label=_("Warehouse")
    )
    q = django_filters.CharFilter(
        label=_("Order number or customer"), method="search", max_length=100
    )

    class Meta:
        model = Order
        fields: list[str] = []

    def search(self, queryset, name, value):
        return _text(queryset, ("name", "customer_name"), value)
