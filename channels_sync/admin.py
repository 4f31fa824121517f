"""Platform sync in the admin: read only (changes go through the screens and services; sync
records, link events and binding changes are append-only). Credentials are never shown."""

from django.contrib import admin

from channels_sync.models import (
    Binding,
    BindingChange,
    BindingException,
    Listing,
    ListingLinkEvent,
    OutboxItem,
    ProductSyncRun,
    Shop,
    SyncRecord,
)
from wms.admin import ReadOnlyAdmin


@admin.register(Shop)
class ShopAdmin(ReadOnlyAdmin):
    list_display = ["name", "platform", "domain", "is_stock_push_enabled", "is_active"]
    exclude = ["credentials"]


@admin.register(Listing)
class ListingAdmin(ReadOnlyAdmin):
    list_display = ["shop", "sku", "barcode", "title", "status", "goods", "matched_by"]
    list_filter = ["shop", "status", "matched_by"]
    search_fields = ["sku", "barcode", "title"]
    list_select_related = ["shop", "goods"]


@admin.register(SyncRecord)
class SyncRecordAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "shop",
        "listing",
        "quantity",
        "previous_quantity",
        "trigger",
        "status",
    ]
    list_filter = ["shop", "status", "trigger"]
    list_select_related = ["shop", "listing"]


for model in (
    Binding,
    BindingException,
    BindingChange,
    OutboxItem,
    ProductSyncRun,
    ListingLinkEvent,
):
    admin.site.register(model, ReadOnlyAdmin)
