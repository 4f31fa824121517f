"""Reads of warehouses, zones and bins for screens, exports and benchmarks.

Every selector takes the user so scoping has one place to live; today every role that may view
warehouses sees all of them (ARCHITECTURE.md §4 scopes stores, not warehouses), and the views
check the permissions. Querysets come with the ``select_related`` and annotations their screens
need, so a page costs a constant number of queries however many rows it shows.
"""

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce

from warehouses import hooks
from warehouses.models import Bin, Warehouse, Zone

AnyUser = AbstractBaseUser | AnonymousUser | None


def _count_of(queryset: QuerySet, field: str) -> Coalesce:
    """Correlated COUNT(*) of ``queryset`` rows whose ``field`` is the outer row."""
    counted = (
        queryset.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def warehouse_list(
    *, user: AnyUser, search: str = "", is_active: bool | None = None
) -> QuerySet[Warehouse]:
    """Warehouses by priority then code, each with ``zone_count``, ``bin_count`` and
    ``active_bin_count``. ``search`` matches code, name or address (any case); ``is_active``
    None means both. One query per page (``wms.pagination.keyset_page``; plus the count)."""
    queryset = Warehouse.objects.annotate(
        zone_count=_count_of(Zone.objects.all(), "warehouse"),
        bin_count=_count_of(Bin.objects.all(), "warehouse"),
        active_bin_count=_count_of(Bin.objects.filter(is_active=True), "warehouse"),
    ).search(search)
    if is_active is not None:
        queryset = queryset.filter(is_active=is_active)
    return queryset.order_by("priority", "code", "pk")


def warehouse_get(*, user: AnyUser, pk: int) -> Warehouse | None:
    """One warehouse with the counts of ``warehouse_list``, or None."""
    return warehouse_list(user=user).filter(pk=pk).first()


def zone_list(*, user: AnyUser, warehouse: Warehouse) -> QuerySet[Zone]:
    """The zones of a warehouse by code, each with ``bin_count`` and ``active_bin_count``."""
    return (
        Zone.objects.filter(warehouse=warehouse)
        .select_related("warehouse")
        .annotate(
            bin_count=Count("bins"),
            active_bin_count=Count("bins", filter=Q(bins__is_active=True)),
        )
        .order_by("code", "pk")
    )


def zone_get(*, user: AnyUser, pk: int) -> Zone | None:
    return Zone.objects.select_related("warehouse").filter(pk=pk).first()


def bin_get(*, user: AnyUser, pk: int) -> Bin | None:
    return Bin.objects.select_related("warehouse", "zone").filter(pk=pk).first()


def bin_lookup(
    *,
    user: AnyUser,
    code: str = "",
    search: str = "",
    warehouse: Warehouse | int | None = None,
    zone_type: str = "",
    is_active: bool | None = None,
) -> QuerySet[Bin]:
    """Bins with their warehouse and zone, ordered by warehouse code then bin code (one query
    per ``wms.pagination.keyset_page``, plus the count).

    ``code``: bins whose code starts with it, any case. ``search``: the search box (see
    ``bin_search``): bins whose code starts with it, or that hold goods matching it.
    ``warehouse``: a warehouse or its id. ``zone_type``: ``Zone.Type`` value, empty for any.
    ``is_active``: None for both.
    """
    queryset = Bin.objects.select_related("warehouse", "zone").code_starts_with(code)
    if search:
        queryset = bin_search(queryset, search, warehouse_id=getattr(warehouse, "pk", warehouse))
    if warehouse is not None:
        queryset = queryset.filter(warehouse=warehouse)
    if zone_type:
        queryset = queryset.filter(zone__type=zone_type)
    if is_active is not None:
        queryset = queryset.filter(is_active=is_active)
    return queryset.order_by("warehouse__code", "code", "pk")


def bin_search(queryset: QuerySet[Bin], text: str, *, warehouse_id: int | None = None):
    """The bins of ``queryset`` whose code starts with ``text`` (any case; the prefix index) or
    whose contents match it (``warehouses.hooks.bins_matching``: the goods SKU, barcode or name
    of the stock they hold, within ``warehouse_id`` when given). One query for the providers;
    the bin ids they give travel as one array parameter (``id = ANY(...)``), so the page and its
    count stay one indexed query each whatever the number of matches."""
    text = " ".join((text or "").split())
    if not text:
        return queryset
    condition = Q(code__istartswith=text)
    ids = sorted(hooks.bins_matching(text, warehouse_id))
    if ids and connection.vendor == "postgresql":
        table = connection.ops.quote_name(Bin._meta.db_table)
        # Constant SQL (the model's quoted table name); the ids travel as one parameter.
        any_id = RawSQL(f"{table}.id = ANY(%s::bigint[])", [ids], output_field=BooleanField())  # noqa: S611
        condition |= Q(any_id)
    elif ids:
        condition |= Q(pk__in=ids)
    return queryset.filter(condition)


def bin_contents(*, user: AnyUser, bins: list[Bin]) -> dict[int, list[tuple[str, object]]]:
    """What each bin holds, from the providers registered in ``warehouses.hooks`` (one call per
    provider for the whole list); empty when no provider is registered."""
    return hooks.bin_contents([b.pk for b in bins], user=user)
