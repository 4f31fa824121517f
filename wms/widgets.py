"""Form widgets shared by every app."""

from django import forms
from django.urls import reverse
from django.utils.translation import gettext as _


class PickerWidget(forms.TextInput):
    """A typed-code field (SKU, bin code, batch number...) that searches as you type: a text input
    that keeps accepting what a scanner or a clerk types, plus a list of options fetched from a
    lookup endpoint (``inventory:lookup``, JSON) by ``static/js/picker.js``. Arrow keys move in
    the list, Enter takes the option (and does not submit the form while the list is open),
    Escape closes it. Without JavaScript it is the plain text input it replaces.

    ``kind``: goods, bin, batch, warehouse or document. ``params`` maps a lookup parameter to the
    id of another field of the form whose value is sent with it (``{"warehouse": "id_warehouse"}``
    limits bins to the chosen warehouse), or to a fixed value (``{"warehouse": 3}``).
    """

    template_name = "wms/widgets/picker.html"  # loads picker.js itself (once per page)

    def __init__(self, kind: str, *, params: dict | None = None, attrs: dict | None = None):
        base = {
            "autocomplete": "off",
            "autocapitalize": "characters",
            "spellcheck": "false",
            "role": "combobox",
            "aria-autocomplete": "list",
            "aria-expanded": "false",
        }
        super().__init__({**base, **(attrs or {})})
        self.kind = kind
        self.params = params or {}

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        widget_attrs = context["widget"]["attrs"]
        field_params = {k: v for k, v in self.params.items() if isinstance(v, str)}
        fixed_params = {k: v for k, v in self.params.items() if not isinstance(v, str)}
        widget_attrs["data-picker"] = reverse("inventory:lookup", args=[self.kind])
        widget_attrs["data-picker-empty"] = _("No matches")
        if field_params:
            widget_attrs["data-picker-fields"] = ",".join(
                f"{key}:{field_id}" for key, field_id in field_params.items()
            )
        if fixed_params:
            widget_attrs["data-picker-fixed"] = ",".join(
                f"{key}:{value}" for key, value in fixed_params.items()
            )
        listbox = f"{widget_attrs.get('id', name)}-options"
        widget_attrs["aria-controls"] = listbox
        context["widget"]["listbox_id"] = listbox
        return context
