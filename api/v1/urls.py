"""API v1 routes: ``/api/v1/<resource>/``."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from api.v1 import allocation, catalogue, channels, freezes, stock, stores, structure, webhooks

router = SimpleRouter(use_regex_path=False)
router.register("goods", catalogue.GoodsViewSet, basename="goods")
router.register("categories", structure.CategoryViewSet, basename="category")
router.register("brands", structure.BrandViewSet, basename="brand")
router.register("warehouses", structure.WarehouseViewSet, basename="warehouse")
router.register("zones", structure.ZoneViewSet, basename="zone")
router.register("bins", structure.BinViewSet, basename="bin")
router.register("inbound-sheets", stock.InboundSheetViewSet, basename="inbound-sheet")
router.register("outbound-sheets", stock.OutboundSheetViewSet, basename="outbound-sheet")
router.register("receipts", stock.ReceiptViewSet, basename="receipt")
router.register("shipments", stock.ShipmentViewSet, basename="shipment")
router.register("transfers", stock.TransferViewSet, basename="transfer")
router.register("counts", stock.CountViewSet, basename="count")
router.register("freezes", freezes.FreezeViewSet, basename="freeze")
router.register("freeze-events", freezes.FreezeEventViewSet, basename="freeze-event")
router.register("release-requests", freezes.ReleaseRequestViewSet, basename="release-request")
router.register("webhooks", webhooks.SubscriptionViewSet, basename="webhook")
router.register("stores", allocation.StoreViewSet, basename="store")
router.register("grab-windows", allocation.GrabWindowViewSet, basename="grab-window")
router.register("grab-requests", allocation.GrabRequestViewSet, basename="grab-request")
router.register(
    "replenishment-orders", allocation.ReplenishmentOrderViewSet, basename="replenishment-order"
)
router.register("store-sales", stores.StoreSalesViewSet, basename="store-sales")
router.register("store-returns", stores.StoreReturnViewSet, basename="store-return")
router.register("shops", channels.ShopViewSet, basename="shop")
router.register("binding-changes", channels.BindingChangeViewSet, basename="binding-change")
router.register("listings", channels.ListingViewSet, basename="listing")
router.register("sync-records", channels.SyncRecordViewSet, basename="sync-record")
router.register("orders", channels.ChannelOrderViewSet, basename="order")

urlpatterns = [
    path("balances/", stock.BalanceView.as_view(), name="balance-list"),
    path("movements/", stock.MovementView.as_view(), name="movement-list"),
    *router.urls,
]
