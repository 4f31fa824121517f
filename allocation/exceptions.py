"""Typed domain errors of store allocation (``wms.errors.DomainError``). ``str(error)`` is a
complete, translated sentence a store or warehouse clerk understands; ``field`` names the form
field at fault; raising one means nothing was written."""

from __future__ import annotations

from wms.errors import DomainError


class AllocationError(DomainError):
    """Base: a request the allocation services refuse."""

    code = "allocation_error"


class InvalidQuantity(AllocationError):
    code = "invalid_quantity"


class WindowNotOpen(AllocationError):
    """Grabbing outside the window's times, or from a closed or cancelled window."""

    code = "window_not_open"


class NotAllowed(AllocationError):
    """Another manager's store, a store outside the window's scope, goods not in the pool,
    a quantity above the cap."""

    code = "not_allowed"


class InvalidState(AllocationError):
    """The document is not in a state that allows this (shipping a cancelled order...)."""

    code = "invalid_state"
