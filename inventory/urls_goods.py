"""URLs of the goods catalogue and of the import/export screens (namespace ``inventory``)."""

from django.urls import path

from inventory.views import goods as views

urlpatterns: list = [
    path("goods/", views.goods_list_view, name="goods-list"),
    path("goods/new/", views.goods_create_view, name="goods-create"),
    path("goods/<int:pk>/", views.goods_detail_view, name="goods-detail"),
    path("goods/<int:pk>/edit/", views.goods_edit_view, name="goods-edit"),
    path(
        "goods/<int:pk>/deactivate/",
        views.goods_set_active_view,
        {"active": False},
        name="goods-deactivate",
    ),
    path(
        "goods/<int:pk>/activate/",
        views.goods_set_active_view,
        {"active": True},
        name="goods-activate",
    ),
    path("goods/<int:pk>/combo/", views.goods_combo_view, name="goods-combo"),
    path("goods/<int:pk>/batches/", views.goods_batches_view, name="goods-batches"),
    path("goods/<int:pk>/batches/<int:batch_pk>/", views.batch_edit_view, name="batch-edit"),
    path("imports/", views.import_job_list_view, name="import-list"),
    path("imports/new/", views.import_start_view, name="import-start"),
    path("imports/<int:pk>/", views.import_job_view, name="import-job"),
    path("imports/<int:pk>/commit/", views.import_job_commit_view, name="import-job-commit"),
    path(
        "imports/<int:pk>/create-missing/",
        views.import_job_create_missing_view,
        name="import-job-create-missing",
    ),
    path(
        "imports/templates/<slug:resource>.xlsx", views.import_template_view, name="import-template"
    ),
    path("exports/", views.export_history_view, name="export-history"),
    path("exports/new/", views.export_create_view, name="export-create"),
    path("exports/<int:pk>/download/", views.export_download_view, name="export-download"),
]
