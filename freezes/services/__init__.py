"""Every write of the freezes app, one function per business action (see each docstring for
what it changes, raises and locks). Quantities move only through ``inventory.ledger``.

* ``freezing``: manual freezes (create from a scope, change, stop catching arrivals, scrap or
  return frozen stock);
* ``release``: release requests and their approval, automatic release at a time and on QC
  pass, quality inspection records;
* ``rules``: auto-freeze rules, their dry run, the daily near-expiry scan;
* ``receipts``: the in-transaction ledger hooks (rules and sticky freezes on receipt; frozen
  units leaving through other documents).
"""
