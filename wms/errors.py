"""``DomainError``: the one base class of every refusal a service, the ledger or an import raises.

Each app subclasses it once (``inventory.exceptions.StockError``, ``inventory.exceptions.
GoodsError``, ``warehouses.exceptions.WarehouseDomainError``...) and raises subclasses named
after the refusal. Views, imports, tasks and the API catch ``DomainError`` (or the app's base)
and show ``str(error)``; forms take it through ``wms.forms.DomainErrorFormMixin``; the admin and
import-export resources through ``as_validation_error()``. Raising one always means nothing was
written: the service's transaction is rolled back.

Contract:

* ``message``: a complete, translated sentence a warehouse clerk understands (``str(error)``);
* ``field``: the form field (or import column) at fault, or None for the request as a whole;
  a subclass may set a class default (``DuplicateSku.field = "sku"``);
* ``code``: a stable machine-readable code (``"insufficient_stock"``) for the API and logs,
  never translated; a class default, overridable per instance;
* ``message_html``: the message for a screen, escaped; a subclass may add links (a refusal
  naming the freezes that hold the stock links each to its release request);
* ``message_dict``: ``{field or NON_FIELD_ERRORS: [messages]}``, the shape forms, imports and
  ``ValidationError`` use; subclasses with several messages (one per field, one per row)
  override it.
"""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


class DomainError(Exception):
    """A request the domain refuses. ``DomainError(message, *, field=None, code=None)``."""

    code: str = "domain_error"
    field: str | None = None

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        if field is not None:
            self.field = field
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return str(self.message)

    @property
    def message_html(self):
        """The message for a screen (escaped); subclasses may add links (a refusal naming the
        freezes that hold the stock links each to its release request)."""
        from django.utils.html import conditional_escape

        return conditional_escape(str(self.message))

    @property
    def message_dict(self) -> dict[str, list[str]]:
        """``{field or NON_FIELD_ERRORS: [message]}``: where each message belongs."""
        return {self.field or NON_FIELD_ERRORS: [str(self.message)]}

    def as_validation_error(self) -> ValidationError:
        """The same messages as a Django ``ValidationError`` (admin, import-export rows)."""
        return ValidationError(self.message_dict)
