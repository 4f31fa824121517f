from django.urls import path

from allocation import views

app_name = "allocation"

urlpatterns = [
    path("grab/", views.grab_home_view, name="grab-home"),
    path("grab/<str:pk>/", views.grab_view, name="grab"),
    path("requests/", views.my_requests_view, name="my-requests"),
    path("requests/<str:pk>/cancel/", views.request_cancel_view, name="request-cancel"),
    path("orders/", views.order_list_view, name="order-list"),
    path("orders/<str:pk>/", views.order_detail_view, name="order-detail"),
    path("orders/<str:pk>/pick/", views.order_pick_view, name="order-pick"),
    path("orders/<str:pk>/pick-list/", views.pick_list_view, name="order-pick-list"),
    path("orders/<str:pk>/ship/", views.order_ship_view, name="order-ship"),
    path("orders/<str:pk>/cancel/", views.order_cancel_view, name="order-cancel"),
    path("orders/<str:pk>/receive/", views.order_receive_view, name="order-receive"),
    path("orders/<str:pk>/return/", views.return_file_view, name="return-file"),
    path("returns/", views.return_list_view, name="return-list"),
    path("returns/<str:pk>/receive/", views.return_receive_view, name="return-receive"),
    path("windows/", views.window_list_view, name="window-list"),
    path("windows/new/", views.window_create_view, name="window-create"),
    path("windows/<str:pk>/", views.window_detail_view, name="window-detail"),
    path("windows/<str:pk>/edit/", views.window_edit_view, name="window-edit"),
    path("windows/<str:pk>/close/", views.window_close_view, name="window-close"),
    path("windows/<str:pk>/cancel/", views.window_cancel_view, name="window-cancel"),
    path("windows/<str:pk>/pick-list/", views.window_pick_list_view, name="window-pick-list"),
    path("windows/<str:pk>/report/", views.window_report_view, name="window-report"),
    path(
        "windows/<str:pk>/decisions/",
        views.window_decisions_export_view,
        name="window-decisions-export",
    ),
    path("sales/", views.sales_entry_view, name="sales-entry"),
    path("reports/stores/", views.store_report_view, name="store-report"),
    path("stores/", views.store_list_view, name="store-list"),
    path("stores/new/", views.store_create_view, name="store-create"),
    path("stores/<str:pk>/edit/", views.store_edit_view, name="store-edit"),
    path("policies/", views.policy_list_view, name="policy-list"),
    path("policies/new/", views.policy_create_view, name="policy-create"),
    path("policies/<str:pk>/", views.policy_detail_view, name="policy-detail"),
    path("policies/<str:pk>/edit/", views.policy_edit_view, name="policy-edit"),
]
