"""Typed refusals raised by ``warehouses.services``.

Every error carries a translated, user-facing ``message`` and, when one input is at fault, the
``field`` it belongs to, so views can put it on the form, imports into the row report and the
admin into a flash message. Nothing is written when one of these is raised: the service's
transaction is rolled back.
"""

from django.core.exceptions import NON_FIELD_ERRORS

from wms.errors import DomainError


class WarehouseDomainError(DomainError):
    """Base class: a warehouse, zone or bin action was refused."""

    code = "warehouse_error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(str(message), field=field)


class InvalidInput(WarehouseDomainError):
    """One or more values fail the model's field rules (blank, too long, bad e-mail...)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = {field: [str(m) for m in messages] for field, messages in errors.items()}
        first_field, first_messages = next(iter(self.errors.items()))
        super().__init__(
            first_messages[0], field=None if first_field == NON_FIELD_ERRORS else first_field
        )

    @property
    def message_dict(self) -> dict[str, list[str]]:
        return self.errors


class DuplicateCode(WarehouseDomainError):
    """The code is already used: warehouses (case-insensitively), zones and bins of a warehouse."""


class ZoneOfAnotherWarehouse(WarehouseDomainError):
    """A bin was given a zone that belongs to a different warehouse."""


class InvalidCoordinates(WarehouseDomainError):
    """Latitude/longitude malformed, out of range, or one given without the other."""


class BinsGuarded(WarehouseDomainError):
    """A deactivation guard refused: ``refusals`` maps bin id to the guard's reason."""

    def __init__(self, message: str, *, refusals: dict[int, str]) -> None:
        super().__init__(message)
        self.refusals = refusals

    @property
    def message_dict(self) -> dict[str, list[str]]:
        return {NON_FIELD_ERRORS: [self.message, *self.refusals.values()]}
