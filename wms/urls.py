from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from inventory.views.floor import scan_view
from wms import views

urlpatterns = [
    path("", views.home_view, name="home"),
    path("healthz", views.healthz_view, name="healthz"),
    path("scan/", scan_view, name="scan"),
    path("favicon.ico", views.favicon_view, name="favicon"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("warehouses/", include("warehouses.urls")),
    path("inventory/", include("inventory.urls")),
    path("freezes/", include("freezes.urls")),
    path("allocation/", include("allocation.urls")),
    path("channels/", include("channels_sync.urls")),
    path("api/", include("api.urls")),
]
