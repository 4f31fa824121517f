"""Admin of store allocation: stores (with their managers) and policies are edited here as on
the screens; windows, requests, decisions, orders, events and returns are shown read-only (they
change only through the services: grabbing, closing, shipping...). A store manager allowed
into the admin sees only his own stores' rows there too (``Store.objects.for_user``)."""

from django.contrib import admin

from allocation.models import (
    GrabDecision,
    GrabRequest,
    GrabWindow,
    OrderEvent,
    Policy,
    ReplenishmentOrder,
    Store,
    StoreManager,
    StoreReturn,
    StoreSales,
)
from wms.admin import ReadOnlyAdmin, ReadOnlyInline


class StoreScoped:
    """Rows limited to the stores the user may see, through ``store_path`` (a lookup to the
    store: ``"store"``, ``"request__store"``; empty for the store itself)."""

    store_path = "store"

    def get_queryset(self, request):
        stores = Store.objects.for_user(request.user)
        queryset = super().get_queryset(request)
        if not self.store_path:
            return queryset.filter(pk__in=stores.values("pk"))
        return queryset.filter(**{f"{self.store_path}__in": stores})


class StoreManagerInline(admin.TabularInline):
    model = StoreManager
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Store)
class StoreAdmin(StoreScoped, admin.ModelAdmin):
    store_path = ""
    list_display = ["code", "name", "group", "fixed_rank", "is_active"]
    list_filter = ["is_active", "group"]
    search_fields = ["code", "name"]
    inlines = [StoreManagerInline]


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "priority", "share", "cycle", "cap_per_goods", "is_active"]


@admin.register(StoreSales)
class StoreSalesAdmin(StoreScoped, ReadOnlyAdmin):
    list_display = ["store", "goods", "day", "units_sold", "on_hand"]
    list_select_related = ["store", "goods"]
    list_filter = ["store"]


@admin.register(GrabWindow)
class GrabWindowAdmin(ReadOnlyAdmin):
    list_display = ["name", "mode", "status", "opens_at", "closes_at", "seed"]
    list_filter = ["status", "mode"]


@admin.register(GrabRequest)
class GrabRequestAdmin(StoreScoped, ReadOnlyAdmin):
    list_display = ["pk", "window", "store", "quantity", "granted", "status", "reason_code"]
    list_select_related = ["window", "store"]
    list_filter = ["status"]


@admin.register(GrabDecision)
class GrabDecisionAdmin(StoreScoped, ReadOnlyAdmin):
    store_path = "request__store"
    list_display = ["pk", "request", "rule", "result", "granted", "created_at"]


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent


@admin.register(ReplenishmentOrder)
class ReplenishmentOrderAdmin(StoreScoped, ReadOnlyAdmin):
    list_display = ["pk", "window", "store", "status", "created_at", "shipped_at"]
    list_select_related = ["window", "store"]
    list_filter = ["status"]
    inlines = [OrderEventInline]


@admin.register(StoreReturn)
class StoreReturnAdmin(StoreScoped, ReadOnlyAdmin):
    list_display = ["pk", "order", "store", "reason", "status", "filed_at"]
    list_filter = ["status", "reason"]
