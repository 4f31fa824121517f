"""Typed domain errors of store allocation (``wms.errors.DomainError``). ``str(error)`` is a
complete, translated sentence a store or warehouse clerk understands; ``field`` names the form
field at fault; raising one means nothing was written."""

from __future__ import annotations

from django.utils.translation import ngettext

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


class SalesRowsInvalid(AllocationError):
    """Rows of a batch of store sales that break the rules (``allocation.services.sales``):
    ``rows`` is ``{row index: {field: [messages]}}``, every bad row of the batch."""

    code = "invalid"

    def __init__(self, rows: dict[int, dict[str, list[str]]]):
        count = len(rows)
        super().__init__(
            ngettext(
                "%(count)s row is not valid; nothing was written.",
                "%(count)s rows are not valid; nothing was written.",
                count,
            )
            % {"count": count},
            field="rows",
        )
        self.rows = rows

    @property
    def message_dict(self) -> dict[str, list[str]]:
        return {
            f"rows.{index}.{field}": list(messages)
            for index, fields in sorted(self.rows.items())
            for field, messages in fields.items()
        }
