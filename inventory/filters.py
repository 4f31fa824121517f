"""django-filter FilterSets of the inventory screens (goods catalogue).

Choices come from lists the view already loaded (the category tree, the brands), so building,
validating and rendering the filter form costs no query of its own.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from inventory.selectors.goods import CategoryTree, goods_search

YES_NO = (("yes", _("Yes")), ("no", _("No")))


class GoodsFilter(django_filters.FilterSet):
    """Search by SKU, name or barcode; category (with its sub-categories), brand, active, has a
    barcode. The goods list, its export and the export history's filter text all use it."""

    q = django_filters.CharFilter(
        method="filter_search",
        label=_("Search"),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("SKU, name or barcode")}),
    )
    category = django_filters.ChoiceFilter(
        method="filter_category", label=_("Category"), empty_label=_("All categories")
    )
    brand = django_filters.ChoiceFilter(
        field_name="brand_id", label=_("Brand"), empty_label=_("All brands")
    )
    active = django_filters.ChoiceFilter(
        method="filter_active", label=_("Active"), choices=YES_NO, empty_label=_("Any")
    )
    has_barcode = django_filters.ChoiceFilter(
        method="filter_has_barcode", label=_("Has barcode"), choices=YES_NO, empty_label=_("Any")
    )

    def __init__(
        self,
        data=None,
        queryset=None,
        *,
        tree: CategoryTree,
        brands: list[tuple[int, str]],
        **kwargs,
    ) -> None:
        super().__init__(data, queryset, **kwargs)
        self.tree = tree
        self.filters["category"].extra["choices"] = [
            (str(pk), label) for pk, label in tree.choices()
        ]
        self.filters["brand"].extra["choices"] = [(str(pk), name) for pk, name in brands]

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return goods_search(queryset, value)

    def filter_category(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(category_id__in=self.tree.descendant_ids(int(value)))

    def filter_active(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(is_active=value == "yes")

    def filter_has_barcode(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "yes":
            return queryset.exclude(barcode="")
        return queryset.filter(barcode="")

    def active_filters(self) -> dict[str, str]:
        """The filters in use, as submitted (stored with an export)."""
        if not self.is_bound or not self.form.is_valid():
            return {}
        return {
            name: str(value)
            for name, value in self.form.cleaned_data.items()
            if value not in (None, "")
        }

    def describe(self) -> str:
        """The filters in words, for the export history ("Category: Drinks; Brand: Acme")."""
        if not self.is_bound or not self.form.is_valid():
            return ""
        parts = []
        for name, value in self.form.cleaned_data.items():
            if value in (None, ""):
                continue
            form_field = self.form.fields[name]
            shown = dict(getattr(form_field, "choices", ())).get(value, value)
            parts.append(f"{form_field.label}{pgettext('label separator', ': ')}{shown}")
        return pgettext("list separator", "; ").join(parts)
