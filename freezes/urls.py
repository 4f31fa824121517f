from django.urls import path

from freezes import views

app_name = "freezes"

urlpatterns = [
    path("", views.freeze_list_view, name="freeze-list"),
    path("new/", views.freeze_create_view, name="freeze-create"),
    path("<int:pk>/", views.freeze_detail_view, name="freeze-detail"),
    path("jobs/<int:pk>/", views.freeze_job_view, name="freeze-job"),
    path("<int:pk>/edit/", views.freeze_edit_view, name="freeze-edit"),
    path("<int:pk>/stop-sticky/", views.freeze_stop_sticky_view, name="freeze-stop-sticky"),
    path("<int:pk>/release/", views.release_request_create_view, name="release-request"),
    path("<int:pk>/ship-out/", views.freeze_ship_out_view, name="freeze-ship-out"),
    path("<int:pk>/inspect/", views.inspection_create_view, name="freeze-inspect"),
    path("inspections/new/", views.inspection_create_view, name="inspection-create"),
    path("stock/", views.frozen_stock_view, name="frozen-stock"),
    path("stock/export/", views.frozen_stock_export_view, name="frozen-stock-export"),
    path("dashboard/", views.dashboard_view, name="dashboard"),
    path("balances/", views.balance_holds_view, name="balance-holds"),
    path("releases/", views.release_queue_view, name="release-queue"),
    path("releases/<int:pk>/decide/", views.release_decide_view, name="release-decide"),
    path("releases/<int:pk>/cancel/", views.release_cancel_view, name="release-cancel"),
    path("rules/", views.rule_list_view, name="rule-list"),
    path("rules/new/", views.rule_create_view, name="rule-create"),
    path("rules/<int:pk>/", views.rule_edit_view, name="rule-edit"),
    path("rules/<int:pk>/switch-on/", views.rule_activate_view, name="rule-activate"),
    path("rules/<int:pk>/switch-off/", views.rule_deactivate_view, name="rule-deactivate"),
    path("rules/<int:pk>/run/", views.rule_run_view, name="rule-run"),
]
