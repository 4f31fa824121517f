"""django-filter FilterSets of the frozen-stock list (and its export) and the freeze list."""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from freezes.forms import DATE_INPUT
from freezes.models import Freeze, FreezeRule, Reason
from inventory.models import Brand, Category
from inventory.selectors.goods import category_descendant_ids
from warehouses.models import Warehouse
from wms.http import parse_id

#: Beyond this many days a freeze would predate the calendar (and timedelta overflows).
MAX_AGE_DAYS = 365 * 1000


def _freezers(request=None):
    """Users who froze something (the operator filter's choices)."""
    return (
        get_user_model()
        .objects.filter(pk__in=Freeze.objects.exclude(created_by=None).values("created_by"))
        .order_by("username")
    )


class FrozenStockFilter(django_filters.FilterSet):
    """Filters of the frozen-stock list: reason, warehouse, category (with sub-categories),
    brand, operator, freeze date, rule, age, SKU."""

    sku = django_filters.CharFilter(
        label=_("SKU"), field_name="goods__sku", lookup_expr="istartswith"
    )
    reason = django_filters.ChoiceFilter(
        label=_("Reason"), field_name="freeze__reason", choices=Reason.choices
    )
    warehouse = django_filters.ModelChoiceFilter(
        label=_("Warehouse"), field_name="warehouse", queryset=Warehouse.objects.all()
    )
    category = django_filters.ModelChoiceFilter(
        label=_("Category"),
        queryset=Category.objects.order_by("name"),
        method="filter_category",
    )
    brand = django_filters.ModelChoiceFilter(
        label=_("Brand"), field_name="goods__brand", queryset=Brand.objects.order_by("name")
    )
    operator = django_filters.ModelChoiceFilter(
        label=_("Frozen by"), field_name="freeze__created_by", queryset=_freezers
    )
    rule = django_filters.ModelChoiceFilter(
        label=_("Rule"), field_name="freeze__rule", queryset=FreezeRule.objects.all()
    )
    frozen_from = django_filters.DateFilter(
        label=_("Frozen from"),
        method="filter_frozen_from",
        widget=DATE_INPUT,
    )
    frozen_to = django_filters.DateFilter(
        label=_("Frozen to"), method="filter_frozen_to", widget=DATE_INPUT
    )
    min_age = django_filters.NumberFilter(
        label=_("Held at least (days)"),
        method="filter_min_age",
        widget=forms.NumberInput(attrs={"min": 0}),
    )

    def filter_category(self, queryset: QuerySet, name: str, value: Category) -> QuerySet:
        return queryset.filter(goods__category_id__in=sorted(category_descendant_ids([value.pk])))

    def filter_frozen_from(self, queryset: QuerySet, name: str, value: datetime.date) -> QuerySet:
        start = timezone.make_aware(datetime.datetime.combine(value, datetime.time.min))
        return queryset.filter(freeze__created_at__gte=start)

    def filter_frozen_to(self, queryset: QuerySet, name: str, value: datetime.date) -> QuerySet:
        if value >= datetime.date.max:
            return queryset
        end = timezone.make_aware(
            datetime.datetime.combine(value + datetime.timedelta(days=1), datetime.time.min)
        )
        return queryset.filter(freeze__created_at__lt=end)

    def filter_min_age(self, queryset: QuerySet, name: str, value) -> QuerySet:
        if value is None or value < 0:
            return queryset
        if value > MAX_AGE_DAYS:
            return queryset.none()  # nothing was frozen before the calendar began
        cutoff = timezone.now() - datetime.timedelta(days=int(value))
        return queryset.filter(freeze__created_at__lte=cutoff)


class FreezeFilter(django_filters.FilterSet):
    """Filters of the freeze list."""

    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Freeze.Status.choices)
    reason = django_filters.ChoiceFilter(label=_("Reason"), choices=Reason.choices)
    rule = django_filters.ModelChoiceFilter(label=_("Rule"), queryset=FreezeRule.objects.all())
    created_by = django_filters.ModelChoiceFilter(label=_("Frozen by"), queryset=_freezers)

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = (value or "").strip()
        if not value:
            return queryset
        condition = Q(note__icontains=value) | Q(source_ref__icontains=value)
        number = parse_id(value.upper().removeprefix(Freeze.PREFIX + "-").lstrip("0"))
        if number is not None:
            condition |= Q(pk=number)
        return queryset.filter(condition)
