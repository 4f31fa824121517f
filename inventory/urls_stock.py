"""URLs of the stock ledger screens (namespace ``inventory``)."""

from django.urls import path

from inventory.views import stock as views

urlpatterns: list = [
    path("stock/", views.stock_query_view, name="stock-query"),
    path("stock/export/", views.stock_export_view, name="stock-export"),
    path("stock/goods/<int:pk>/", views.stock_card_view, name="stock-card"),
    path(
        "stock/goods/<int:pk>/section/",
        views.stock_goods_section_view,
        name="stock-goods-section",
    ),
    path("ledger/", views.ledger_view, name="ledger"),
    path("ledger/export/", views.ledger_export_view, name="ledger-export"),
]

for direction in ("inbound", "outbound"):
    kwargs = {"direction": direction}
    urlpatterns += [
        path(f"{direction}/", views.sheet_list_view, kwargs, name=f"{direction}-list"),
        path(f"{direction}/new/", views.sheet_create_view, kwargs, name=f"{direction}-create"),
        path(f"{direction}/<int:pk>/", views.sheet_detail_view, kwargs, name=f"{direction}-detail"),
        path(
            f"{direction}/<int:pk>/lines/add/",
            views.sheet_line_add_view,
            kwargs,
            name=f"{direction}-line-add",
        ),
        path(
            f"{direction}/<int:pk>/lines/<int:line>/remove/",
            views.sheet_line_remove_view,
            kwargs,
            name=f"{direction}-line-remove",
        ),
        path(
            f"{direction}/<int:pk>/post/", views.sheet_post_view, kwargs, name=f"{direction}-post"
        ),
        path(
            f"{direction}/<int:pk>/reverse/",
            views.sheet_reverse_view,
            kwargs,
            name=f"{direction}-reverse",
        ),
        path(
            f"{direction}/<int:pk>/delete/",
            views.sheet_delete_view,
            kwargs,
            name=f"{direction}-delete",
        ),
    ]

urlpatterns += [
    path("transfers/", views.transfer_list_view, name="transfer-list"),
    path("transfers/bin/", views.transfer_bin_view, name="transfer-bin"),
    path("transfers/new/", views.transfer_create_view, name="transfer-create"),
    path("transfers/<int:pk>/", views.transfer_detail_view, name="transfer-detail"),
    path("transfers/<int:pk>/lines/add/", views.transfer_line_add_view, name="transfer-line-add"),
    path(
        "transfers/<int:pk>/lines/<int:line>/remove/",
        views.transfer_line_remove_view,
        name="transfer-line-remove",
    ),
    path("transfers/<int:pk>/ship/", views.transfer_ship_view, name="transfer-ship"),
    path("transfers/<int:pk>/receive/", views.transfer_receive_view, name="transfer-receive"),
    path("transfers/<int:pk>/delete/", views.transfer_delete_view, name="transfer-delete"),
    path("counts/", views.count_list_view, name="count-list"),
    path("counts/new/", views.count_create_view, name="count-create"),
    path("counts/<int:pk>/", views.count_detail_view, name="count-detail"),
    path("counts/<int:pk>/lines/", views.count_line_set_view, name="count-line-set"),
    path(
        "counts/<int:pk>/lines/<int:line>/remove/",
        views.count_line_remove_view,
        name="count-line-remove",
    ),
    path("counts/<int:pk>/post/", views.count_post_view, name="count-post"),
    path("counts/<int:pk>/delete/", views.count_delete_view, name="count-delete"),
]
