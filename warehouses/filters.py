"""django-filter FilterSets for the warehouse list and the bin lookup (parsing only).

They filter the querysets of ``warehouses.selectors`` with the same queryset methods the
selectors' own arguments use, so a screen and a direct selector call agree.
"""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from warehouses.models import Bin, Warehouse, Zone


def _status_widget() -> forms.Select:
    return forms.Select(
        choices=[("", _("Any status")), ("true", _("Active")), ("false", _("Inactive"))]
    )


class WarehouseFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_search",
        label=_("Search"),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Code, name or address")}),
    )
    is_active = django_filters.BooleanFilter(
        field_name="is_active", label=_("Status"), widget=_status_widget()
    )

    class Meta:
        model = Warehouse
        fields: list[str] = []

    def filter_search(self, queryset, name, value):
        return queryset.search(value)


class BinLookupFilter(django_filters.FilterSet):
    code = django_filters.CharFilter(
        method="filter_code",
        label=_("Bin code"),
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Starts with, e.g. A-01"), "autofocus": True}
        ),
    )
    warehouse = django_filters.ModelChoiceFilter(
        field_name="warehouse",
        label=_("Warehouse"),
        queryset=Warehouse.objects.order_by("code"),
        empty_label=_("All warehouses"),
    )
    zone_type = django_filters.ChoiceFilter(
        field_name="zone__type",
        label=_("Zone type"),
        choices=Zone.Type.choices,
        empty_label=_("Any zone type"),
    )
    is_active = django_filters.BooleanFilter(
        field_name="is_active", label=_("Status"), widget=_status_widget()
    )

    class Meta:
        model = Bin
        fields: list[str] = []

    def filter_code(self, queryset, name, value):
        return queryset.code_starts_with(value)
