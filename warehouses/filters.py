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
        label=_("Bin or goods"),
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": _("Bin code, or goods SKU, barcode or name"),
                "autofocus": True,
            }
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
        """Bins whose code starts with the text, or holding goods matching it (in the chosen
        warehouse): ``warehouses.selectors.bin_search``."""
        from warehouses.selectors import bin_search

        warehouse = self.form.cleaned_data.get("warehouse")
        return bin_search(queryset, value, warehouse_id=warehouse.pk if warehouse else None)
