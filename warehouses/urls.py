from django.urls import path

from warehouses import views

app_name = "warehouses"

urlpatterns = [
    path("", views.warehouse_list_view, name="warehouse-list"),
    path("new/", views.warehouse_create_view, name="warehouse-create"),
    path("<int:pk>/", views.warehouse_detail_view, name="warehouse-detail"),
    path("<int:pk>/edit/", views.warehouse_edit_view, name="warehouse-edit"),
    path("<int:pk>/deactivate/", views.warehouse_deactivate_view, name="warehouse-deactivate"),
    path("<int:pk>/reactivate/", views.warehouse_reactivate_view, name="warehouse-reactivate"),
    path("<int:pk>/zones/new/", views.zone_create_view, name="zone-create"),
    path("<int:pk>/bins/new/", views.bin_create_view, name="bin-create"),
    path("zones/<int:pk>/edit/", views.zone_edit_view, name="zone-edit"),
    path("bins/", views.bin_lookup_view, name="bin-lookup"),
    path("bins/<int:pk>/edit/", views.bin_edit_view, name="bin-edit"),
    path("bins/<int:pk>/deactivate/", views.bin_deactivate_view, name="bin-deactivate"),
    path("bins/<int:pk>/reactivate/", views.bin_reactivate_view, name="bin-reactivate"),
]
