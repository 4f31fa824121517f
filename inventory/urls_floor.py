"""URLs of the floor screens' lookups (namespace ``inventory``); /scan/ itself is in wms/urls.py."""

from django.urls import path

from inventory.views import floor as views

urlpatterns: list = [
    path("lookup/<slug:kind>/", views.lookup_view, name="lookup"),
]
