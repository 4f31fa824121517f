"""What every app's forms share: ``DomainErrorFormMixin``, the one bridge from a service's
refusal (``wms.errors.DomainError``) to a form error.

A view parses with the form, calls the service, and on refusal::

    try:
        services.bin_create(**form.cleaned_data, user=request.user)
    except WarehouseDomainError as error:
        form.add_domain_error(error)
        return respond(request, template, {"form": form}, status=422)

Render the form with ``{% include "partials/form_fields.html" %}``: field errors next to their
field, form errors above the fields.
"""

from __future__ import annotations

from wms.errors import DomainError


class DomainErrorFormMixin:
    """Mix into a ``forms.Form`` before it: ``class GoodsForm(DomainErrorFormMixin, forms.Form)``."""

    def add_domain_error(self, error: DomainError, *, field: str | None = None) -> None:
        """Put ``error`` on the form: each message on its field when the form has that field,
        otherwise as a form (non-field) error. ``field`` overrides the error's own field (a
        screen that knows which of its inputs the refusal is about)."""
        if field is not None:
            self.add_error(field if field in self.fields else None, error.message_html)
            return
        if type(error).message_dict is DomainError.message_dict:  # one message: keep its links
            name = error.field
            self.add_error(name if name in self.fields else None, error.message_html)
            return
        for name, messages in error.message_dict.items():
            self.add_error(name if name in self.fields else None, messages)
