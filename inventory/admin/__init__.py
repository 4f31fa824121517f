"""Admin registrations, one module per subdomain: goods.py (catalogue), stock.py (ledger)."""
