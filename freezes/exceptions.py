"""Typed refusals of the freezes app.

They extend the ledger's ``inventory.exceptions.StockError`` family, so views, tasks and the API
catch one base class and show ``str(error)``: a translated, complete sentence. Raising one means
nothing was written (the service's transaction is rolled back). The ledger's own errors
(``InsufficientStock`` with its shortfall, ``InvalidQuantity``...) pass through unchanged.
"""

from __future__ import annotations

from inventory.exceptions import InvalidInput, NotAllowed


class ScopeMatchesNothing(InvalidInput):
    """The scope of a freeze (or a rule's dry run) matches no stock at all."""

    code = "scope_matches_nothing"


class FreezeClosed(NotAllowed):
    """The freeze is closed: it cannot be edited, released, inspected or shipped from."""

    code = "freeze_closed"


class ApprovalRefused(NotAllowed):
    """The user may not decide this release request: no approve permission, or it is their
    own request, or they froze the stock themselves."""

    code = "approval_refused"


class AlreadyDecided(NotAllowed):
    """The release request was approved or rejected already (two approvers, two tabs)."""

    code = "already_decided"
