"""URLs of the floor screens' lookups (namespace ``inventory``); /scan/ itself is in wms/urls.py."""

from django.urls import path

from inventory.views import floor as views
from inventory.views import printing, scanning

urlpatterns: list = [
    path("lookup/<slug:kind>/", views.lookup_view, name="lookup"),
    path("imports/<int:pk>/discard/", views.import_job_discard_view, name="import-job-discard"),
    path("labels/bins.pdf", printing.bin_labels_view, name="bin-labels"),
    path("labels/goods/<int:pk>.pdf", printing.goods_labels_view, name="goods-labels"),
    path("outbound/<int:pk>/pick-list.pdf", printing.pick_list_view, name="pick-list"),
    path("outbound/<int:pk>/packing-slip.pdf", printing.packing_slip_view, name="packing-slip"),
    path("outbound/wave-pick-list.pdf", printing.wave_pick_list_view, name="wave-pick-list"),
    path("scan/move/", scanning.scan_session_view, {"mode": "move"}, name="scan-move"),
    path("scan/move/reset/", scanning.scan_move_reset_view, name="scan-move-reset"),
    path("scan/count/<int:pk>/blind/", scanning.scan_count_blind_view, name="scan-count-blind"),
]
for _mode in ("receive", "pick", "count"):
    urlpatterns += [
        path(
            f"scan/{_mode}/<int:pk>/",
            scanning.scan_session_view,
            {"mode": _mode},
            name=f"scan-{_mode}",
        ),
        path(
            f"scan/{_mode}/<int:pk>/finish/",
            scanning.scan_finish_view,
            {"mode": _mode},
            name=f"scan-{_mode}-finish",
        ),
    ]
