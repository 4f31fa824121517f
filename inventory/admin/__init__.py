"""Admin registrations, one module per subdomain: goods.py (catalogue), stock.py (ledger)."""

from inventory.admin import goods  # noqa: F401  (inventory: goods)
from inventory.admin import stock as stock_admin  # noqa: F401  (inventory: stock)
