from django.urls import path

from channels_sync import views

app_name = "channels_sync"

urlpatterns = [
    path("shops/", views.shop_list_view, name="shop-list"),
    path("shops/new/", views.shop_create_view, name="shop-create"),
    path("shops/<int:pk>/", views.shop_detail_view, name="shop-detail"),
    path("shops/<int:pk>/edit/", views.shop_edit_view, name="shop-edit"),
    path("shops/<int:pk>/push/", views.shop_push_view, name="shop-push"),
    path("shops/<int:pk>/sync/", views.product_sync_start_view, name="product-sync"),
    path("shops/<int:pk>/sync/progress/", views.product_sync_progress_view, name="sync-progress"),
    path("shops/<int:pk>/matching/", views.matching_view, name="matching"),
    path("shops/<int:pk>/matching/bulk/", views.matching_bulk_view, name="matching-bulk"),
    path(
        "shops/<int:pk>/listings/<int:listing_pk>/link/",
        views.listing_link_view,
        name="listing-link",
    ),
    path(
        "shops/<int:pk>/listings/<int:listing_pk>/unlink/",
        views.listing_unlink_view,
        name="listing-unlink",
    ),
    path("shops/<int:pk>/bindings/", views.bindings_view, name="bindings"),
    path("shops/<int:pk>/bindings/propose/", views.binding_propose_view, name="binding-propose"),
    path("shops/<int:pk>/bindings/export/", views.bindings_export_view, name="bindings-export"),
    path(
        "shops/<int:pk>/bindings/exceptions/",
        views.binding_exceptions_view,
        name="binding-exceptions",
    ),
    path(
        "shops/<int:pk>/bindings/changes/<int:change_pk>/",
        views.binding_change_view,
        name="binding-change",
    ),
    path(
        "shops/<int:pk>/bindings/changes/<int:change_pk>/decide/",
        views.binding_decide_view,
        name="binding-decide",
    ),
    path(
        "shops/<int:pk>/bindings/changes/<int:change_pk>/rollback/",
        views.binding_rollback_view,
        name="binding-rollback",
    ),
    path("sync-log/", views.sync_log_view, name="sync-log"),
    path("sync-log/<int:record_pk>/retry/", views.sync_retry_view, name="sync-retry"),
]

# -- orders (issue 12) ------------------------------------------------------------------------
from channels_sync import views_orders  # noqa: E402

urlpatterns += [
    path(
        "webhooks/shopify/<int:shop_pk>/orders/",
        views_orders.order_webhook_view,
        name="order-webhook",
    ),
]

urlpatterns += [
    path("orders/", views_orders.order_list_view, name="order-list"),
    path("orders/<int:pk>/", views_orders.order_detail_view, name="order-detail"),
    path("orders/confirm/", views_orders.order_confirm_view, name="order-confirm"),
    path("orders/pull/", views_orders.orders_pull_view, name="orders-pull"),
    path("orders/metrics/", views_orders.metrics_view, name="order-metrics"),
    path("shipments/<int:pk>/label/", views_orders.shipment_label_view, name="shipment-label"),
    path("shipments/<int:pk>/retry/", views_orders.shipment_retry_view, name="shipment-retry"),
    path("logistics-rules/", views_orders.rule_list_view, name="rule-list"),
    path("logistics-rules/<int:pk>/toggle/", views_orders.rule_toggle_view, name="rule-toggle"),
    path("carriers/", views_orders.carrier_list_view, name="carrier-list"),
    path(
        "orders/settings/<int:shop_pk>/",
        views_orders.order_settings_view,
        name="order-settings",
    ),
]
