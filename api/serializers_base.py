"""What every API input serializer shares: unknown fields are refused (a typo such as
``quantiy`` must not be silently ignored), and integer quantities are whole and positive."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import serializers


class StrictSerializer(serializers.Serializer):
    def to_internal_value(self, data):
        if isinstance(data, dict):
            known = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(str(key) for key in data if key not in known)
            if unknown:
                raise serializers.ValidationError({key: [_("Unknown field.")] for key in unknown})
        return super().to_internal_value(data)


class QuantityField(serializers.IntegerField):
    """A whole number of units above zero: 1.5, "2", true and -3 are refused."""

    default_error_messages = {
        "invalid": _("Send a whole number of units."),
        "min_value": _("Quantities must be whole numbers greater than zero."),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2_000_000_000)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)
