"""Inventory URLs: the goods catalogue (urls_goods.py) and the stock ledger (urls_stock.py)."""

from inventory.urls_floor import urlpatterns as floor_urlpatterns
from inventory.urls_goods import urlpatterns as goods_urlpatterns
from inventory.urls_stock import urlpatterns as stock_urlpatterns

app_name = "inventory"

urlpatterns = [*goods_urlpatterns, *stock_urlpatterns, *floor_urlpatterns]
