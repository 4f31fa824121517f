"""Admin of the stock ledger: read-only (ARCHITECTURE.md §2 law 4, STYLE.md "admin.py").

Balances and movements can be looked at, filtered and searched, never added, changed or
deleted here: quantities change only through ``inventory.ledger``. Documents are read-only too;
the admin actions on draft sheets and counts call the same services as the screens.
"""

from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.db import connection
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from inventory.exceptions import StockError
from inventory.models import (
    InboundLine,
    InboundSheet,
    OutboundLine,
    OutboundSheet,
    StockBalance,
    StockCount,
    StockCountLine,
    StockMovement,
    StockTransfer,
    StockTransferLine,
)
from inventory.services import stock as services
from wms.admin import ReadOnlyAdmin, ReadOnlyInline


class EstimatedCountPaginator(Paginator):
    """An unfiltered changelist of a big append-only table shows PostgreSQL's row estimate
    instead of running COUNT(*) over millions of rows on every page."""

    @cached_property
    def count(self) -> int:
        query = getattr(self.object_list, "query", None)
        if connection.vendor == "postgresql" and query is not None and not query.where:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                    [self.object_list.model._meta.db_table],
                )
                row = cursor.fetchone()
            if row and row[0] and row[0] > 10_000:
                return int(row[0])
        return super().count


@admin.register(StockBalance)
class StockBalanceAdmin(ReadOnlyAdmin):
    list_display = ("goods", "warehouse", "bin", "batch", "on_hand", "frozen", "reserved")
    list_select_related = ("goods", "warehouse", "bin__warehouse", "batch")
    list_filter = ("warehouse",)
    search_fields = ("goods__sku", "bin__code", "batch__batch_no")
    show_full_result_count = False
    paginator = EstimatedCountPaginator


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "kind",
        "document_ref",
        "goods",
        "warehouse",
        "bin",
        "quantity",
        "on_hand_delta",
        "frozen_delta",
        "reserved_delta",
        "operator",
    )
    list_select_related = ("goods", "warehouse", "bin__warehouse", "operator")
    list_filter = ("kind", "warehouse")
    search_fields = ("document_ref", "goods__sku")
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    ordering = ("-created_at", "-id")


class InboundLineInline(ReadOnlyInline):
    model = InboundLine
    fields = ("goods", "batch", "bin", "quantity")


class OutboundLineInline(ReadOnlyInline):
    model = OutboundLine
    fields = ("goods", "batch", "bin", "quantity", "from_frozen")


def _post_action(post, label):
    @admin.action(description=label, permissions=["post"])
    def action(modeladmin, request, queryset):
        done = 0
        for doc in queryset.filter(status="draft").order_by("pk"):
            try:
                post(sheet_id=doc.pk, user=request.user)
            except StockError as error:
                modeladmin.message_user(request, f"{doc.number}: {error}", messages.ERROR)
            else:
                done += 1
        if done:
            modeladmin.message_user(
                request, _("%(n)s document(s) posted.") % {"n": done}, messages.SUCCESS
            )

    action.__name__ = "post_drafts"
    return action


class SheetAdmin(ReadOnlyAdmin):
    list_display = (
        "__str__",
        "type",
        "warehouse",
        "status",
        "reference",
        "created_by",
        "posted_at",
    )
    list_select_related = ("warehouse", "created_by")
    list_filter = ("status", "type", "warehouse")
    search_fields = ("reference",)

    def has_post_permission(self, request) -> bool:
        return request.user.has_perm("inventory.post_sheet")


@admin.register(InboundSheet)
class InboundSheetAdmin(SheetAdmin):
    inlines = [InboundLineInline]
    actions = [_post_action(services.inbound_sheet_post, _("Post the selected draft sheets"))]


@admin.register(OutboundSheet)
class OutboundSheetAdmin(SheetAdmin):
    inlines = [OutboundLineInline]
    actions = [_post_action(services.outbound_sheet_post, _("Post the selected draft sheets"))]


class TransferLineInline(ReadOnlyInline):
    model = StockTransferLine
    fields = (
        "goods",
        "batch",
        "from_bin",
        "to_bin",
        "quantity",
        "received_quantity",
        "discrepancy_reason",
    )


@admin.register(StockTransfer)
class StockTransferAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "kind", "from_warehouse", "to_warehouse", "status", "created_at")
    list_select_related = ("from_warehouse", "to_warehouse")
    list_filter = ("kind", "status")
    inlines = [TransferLineInline]


class CountLineInline(ReadOnlyInline):
    model = StockCountLine
    fields = ("bin", "goods", "batch", "counted_quantity", "expected_quantity")


@admin.register(StockCount)
class StockCountAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "warehouse", "reason", "status", "created_by", "posted_at")
    list_select_related = ("warehouse", "created_by")
    list_filter = ("status", "warehouse")
    inlines = [CountLineInline]
