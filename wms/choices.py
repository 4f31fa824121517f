"""Status badges coloured from the choices themselves: one registry, one partial, one tag.

Declare the colour of each value on the ``TextChoices`` class with ``@badges``::

    @badges(draft="warn", in_transit="in-transit", done="ok")
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ...

and show a row's value anywhere with ``{% load wms_tags %}{% status_badge transfer "status" %}``
(the label is the choice's translated label; ``partials/status_badge.html`` renders
``<span class="badge <colour> <field>-<value>">``). A boolean field (``is_active``) reads as
``ActiveState``. A value without a declared colour gets the plain grey badge.

Colours are the badge classes of ``static/css/wms.css``: ``BADGE_COLOURS``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from types import MappingProxyType

from django.db import models
from django.db.models.enums import ChoicesType
from django.utils.translation import gettext_lazy as _

#: The badge colour classes wms.css defines ("" is the plain grey badge).
BADGE_COLOURS = frozenset({"", "ok", "off", "warn", "danger", "frozen", "in-transit"})

_REGISTRY: list[ChoicesType] = []
_BY_FIELD: dict[tuple[type, str], ChoicesType | None] = {}


def badges(**colours: str) -> Callable[[ChoicesType], ChoicesType]:
    """Class decorator: ``value=colour`` for the values of a ``TextChoices`` class. Every value
    named must exist and every colour be one of ``BADGE_COLOURS`` (a typo fails at import)."""

    def decorate(choices: ChoicesType) -> ChoicesType:
        unknown = set(colours) - set(choices.values)
        if unknown:
            raise ValueError(f"{choices.__qualname__} has no value {sorted(unknown)}")
        wrong = set(colours.values()) - BADGE_COLOURS
        if wrong:
            raise ValueError(f"unknown badge colours {sorted(wrong)}")
        # A plain attribute, not an enum member (EnumType allows setting non-member names).
        choices.badge_colours = MappingProxyType(dict(colours))
        _REGISTRY.append(choices)
        _BY_FIELD.clear()
        return choices

    return decorate


@badges(active="ok", inactive="off")
class ActiveState(models.TextChoices):
    """How a boolean ``is_active`` reads on a badge."""

    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Inactive")


def badge_colour(choices: ChoicesType, value: object) -> str:
    """The colour class of ``value`` in ``choices`` ("" when none was declared)."""
    return getattr(choices, "badge_colours", {}).get(str(value), "")


def choices_of(model: type[models.Model], field_name: str) -> ChoicesType | None:
    """The registered ``TextChoices`` class a model field was declared with (matched on its
    values), or None. Cached per field."""
    key = (model, field_name)
    if key not in _BY_FIELD:
        values = {str(value) for value, _label in model._meta.get_field(field_name).flatchoices}
        found = [c for c in _REGISTRY if set(c.values) == values]
        _BY_FIELD[key] = found[0] if len(found) == 1 else None
    return _BY_FIELD[key]


def status_badge_context(obj: models.Model, field_name: str) -> dict:
    """What ``partials/status_badge.html`` needs for ``obj.<field_name>``: ``label``,
    ``colour`` and ``hook`` (``<field>-<value>``, a CSS hook)."""
    value = getattr(obj, field_name)
    if isinstance(value, bool):
        state = ActiveState.ACTIVE if value else ActiveState.INACTIVE
        return {
            "label": state.label,
            "colour": badge_colour(ActiveState, state),
            "hook": f"{field_name.replace('_', '-')}-{str(value).lower()}",
        }
    choices = choices_of(type(obj), field_name)
    display = getattr(obj, f"get_{field_name}_display", None)
    return {
        "label": display() if display else value,
        "colour": badge_colour(choices, value) if choices else "",
        "hook": f"{field_name}-{value}",
    }


def choice_value(choices: ChoicesType, text: object) -> str | None:
    """The value of ``choices`` that ``text`` spells — the value itself, or its label in any of
    the site's languages (history written before it stored codes) — else None."""
    return _spellings(choices).get(text) if isinstance(text, str) else None


@functools.cache
def _spellings(choices: ChoicesType) -> Mapping[str, str]:
    from django.conf import settings
    from django.utils import translation

    values: dict[str, str] = {}
    for value, label in choices.choices:
        values[value] = value
        for language, _name in settings.LANGUAGES:
            with translation.override(language):
                values[str(label)] = value
    return MappingProxyType(values)
