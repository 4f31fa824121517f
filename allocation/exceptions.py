"""Typed domain errors of store allocation. ``str(error)`` is a complete, translated sentence a
store or warehouse clerk understands; raising one means nothing was written."""

from __future__ import annotations


class AllocationError(Exception):
    """Base: a request the allocation services refuse. ``field`` names the form field at fault."""

    code = "allocation_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


class InvalidQuantity(AllocationError):
    code = "invalid_quantity"


class WindowNotOpen(AllocationError):
    code = "window_not_open"


class NotAllowed(AllocationError):
    code = "not_allowed"


class InvalidState(AllocationError):
    """The document is not in a state that allows this (shipping a cancelled order...)."""

    code = "invalid_state"
