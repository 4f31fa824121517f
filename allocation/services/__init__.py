"""Allocation services: one function per business action, transactional, raising
``allocation.exceptions.AllocationError`` (or the ledger's ``StockError``) with a clerk-readable
message and writing nothing when they refuse. Modules: ``stores`` (figures, ranking,
eligibility), ``windows`` (create, open, cancel), ``grabs`` (submit, cancel), ``close``
(allocation at close, orders from grants, unreserving the rest), ``orders`` (pick, ship,
receive, cancel), ``returns`` (file, receive)."""
