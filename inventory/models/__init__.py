"""Inventory models: goods and their catalogue (goods.py), the stock ledger (stock.py)."""

from inventory.models.goods import Batch, Brand, Category, ComboComponent, Goods, GoodsQuerySet

__all__ = ["Batch", "Brand", "Category", "ComboComponent", "Goods", "GoodsQuerySet"]
