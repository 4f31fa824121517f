"""URLs of the floor screens' lookups (namespace ``inventory``); /scan/ itself is in wms/urls.py."""

from django.urls import path

from inventory.views import floor as views
from inventory.views import printing

urlpatterns: list = [
    path("lookup/<slug:kind>/", views.lookup_view, name="lookup"),
    path("imports/<int:pk>/discard/", views.import_job_discard_view, name="import-job-discard"),
    path("labels/bins.pdf", printing.bin_labels_view, name="bin-labels"),
    path("labels/goods/<int:pk>.pdf", printing.goods_labels_view, name="goods-labels"),
    path("outbound/<int:pk>/pick-list.pdf", printing.pick_list_view, name="pick-list"),
    path("outbound/<int:pk>/packing-slip.pdf", printing.packing_slip_view, name="packing-slip"),
]
