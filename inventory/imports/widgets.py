"""django-import-export widgets that accept what spreadsheets really contain, and render exports
that spreadsheets cannot execute.

Cleaning (import): a cell may arrive as text, a float (Excel numbers, also integers), a bool, a
date or datetime (Excel dates), or text that holds a number or a date ("numbers stored as text",
ISO dates from CSV). Each widget accepts all of these for its type and raises ``ValueError`` with a
plain message for anything else, which the import engine reports as "row N, column: message".

Rendering (export): numbers, dates and booleans stay native values, so an xlsx export has real
numbers and dates; text goes through ``escape_formula``: a value starting with ``= + - @``, a tab
or a carriage return gets a leading apostrophe, so no spreadsheet app executes it. The text
widgets strip that apostrophe again on import, so an export re-imports unchanged.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from import_export import widgets

from wms.spreadsheets import FORMULA_TRIGGERS, export_value

_EXCEL_EPOCH = dt.date(1899, 12, 30)
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_SCIENTIFIC = re.compile(r"^[+-]?\d+(\.\d+)?[eE][+-]?\d+$")
_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_EXCEL_TEXT_FORMULA = re.compile(r'^="(.*)"$', re.DOTALL)
_SPACES = re.compile(r"\s+")


def _unescape(text: str) -> str:
    if text.startswith("'") and text[1:2] and text[1:].startswith(FORMULA_TRIGGERS):
        return text[1:]
    return text


def cell_text(value) -> str:
    """Any cell as trimmed text; integral floats lose their ``.0``."""
    if type(value) is str:
        text = value.strip()
        if text and (text[0] == "=" or text[0] == "'"):
            match = _EXCEL_TEXT_FORMULA.match(text)
            if match:
                text = match.group(1)
            return _unescape(text)
        return text
    if value is None:
        return ""
    if isinstance(value, str):
        return _unescape(value.strip())
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


class TextWidget(widgets.CharWidget):
    """Single-line text: trimmed, runs of whitespace (also line breaks) become one space."""

    def __init__(self, multiline: bool = False) -> None:
        super().__init__(coerce_to_string=True, allow_blank=True)
        self.multiline = multiline

    def clean(self, value, row=None, **kwargs) -> str:
        text = cell_text(value)
        if not self.multiline and text and ("  " in text or not text.isprintable()):
            text = _SPACES.sub(" ", text)
        return text

    def render(self, value, obj=None, **kwargs):
        return export_value("" if value is None else str(value))


class CodeWidget(TextWidget):
    """A code typed by people and mangled by Excel: SKU, barcode, batch number.

    A number cell becomes its integer text ("123", not "123.0"); a number with decimals, one too
    large for Excel to hold exactly, or Excel's scientific notation ("6.90123E+12") is refused,
    since the digits are already lost. Leading-zero checks need the database and live in the
    resource.
    """

    def clean(self, value, row=None, **kwargs) -> str:
        if isinstance(value, bool):
            raise ValueError(_("%(value)s is not a code") % {"value": value})
        if isinstance(value, (int, float)):
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(
                    _(
                        "%(value)s is stored as a number with decimals; format the column as "
                        "Text and type the code again"
                    )
                    % {"value": value}
                )
            if abs(value) >= 1e15:
                raise ValueError(
                    _(
                        "%(value)s is too long for an Excel number cell and has been rounded; "
                        "format the column as Text and type the code again"
                    )
                    % {"value": int(value)}
                )
            return str(int(value))
        text = cell_text(value)
        if ("e" in text or "E" in text) and _SCIENTIFIC.match(text):
            raise ValueError(
                _(
                    "%(value)s is in scientific notation, so Excel has rounded it; format the "
                    "column as Text and type the code again"
                )
                % {"value": text}
            )
        if "  " in text or not text.isprintable():
            text = _SPACES.sub(" ", text)
        return text


def _number_text(value) -> str:
    text = unicodedata.normalize("NFKC", cell_text(value)).replace(" ", "").replace("\u00a0", "")
    if "," in text:
        if _THOUSANDS.match(text):
            text = text.replace(",", "")
        else:
            raise ValueError(
                _("%(value)s is not a number (use a dot for decimals)") % {"value": value}
            )
    return text


class NumberWidget(widgets.DecimalWidget):
    """A decimal quantity (weight, volume): real numbers or numbers stored as text.

    ``decimal_places``: float noise from Excel (3.3000000000000003) is rounded away; a value that
    really has more places is refused.
    """

    def __init__(self, decimal_places: int | None = None) -> None:
        super().__init__(coerce_to_string=False)
        self.decimal_places = decimal_places

    def clean(self, value, row=None, **kwargs) -> Decimal | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, (bool, dt.date, dt.time, dt.timedelta)):
            raise ValueError(_("%(value)s is not a number") % {"value": value})
        is_float = isinstance(value, float)
        text = repr(value) if is_float else _number_text(value)
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(_("%(value)s is not a number") % {"value": value}) from None
        if not number.is_finite():
            raise ValueError(_("%(value)s is not a number") % {"value": value})
        if self.decimal_places is not None and number.as_tuple().exponent < -self.decimal_places:
            quantum = Decimal(1).scaleb(-self.decimal_places)
            rounded = number.quantize(quantum)
            if is_float and abs(rounded - number) < Decimal("1e-9"):
                return rounded
            raise ValueError(
                _("%(value)s has more than %(places)s decimal places")
                % {"value": text, "places": self.decimal_places}
            )
        return number

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else value


class IntegerWidget(widgets.IntegerWidget):
    """A whole number: 365, 365.0 from Excel, "365" stored as text."""

    def __init__(self) -> None:
        super().__init__(coerce_to_string=False)

    def clean(self, value, row=None, **kwargs) -> int | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, bool):
            raise ValueError(_("%(value)s is not a whole number") % {"value": value})
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            if value.is_integer():
                return int(value)
            raise ValueError(_("%(value)s is not a whole number") % {"value": value})
        try:
            number = Decimal(_number_text(value))
        except (InvalidOperation, ValueError):
            raise ValueError(_("%(value)s is not a whole number") % {"value": value}) from None
        if not number.is_finite() or number != number.to_integral_value() or abs(number) > 10**12:
            raise ValueError(_("%(value)s is not a whole number") % {"value": value})
        return int(number)

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else value


class DateWidget(widgets.DateWidget):
    """A date: an Excel date cell, an Excel serial number, or text as 2024-05-31, 2024/5/31,
    2024.05.31, 20240531 or 2024年5月31日 (day-first or month-first text is refused: ambiguous)."""

    def __init__(self) -> None:
        super().__init__(coerce_to_string=False)

    def clean(self, value, row=None, **kwargs) -> dt.date | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if 1 <= value < 2958466:
                return _EXCEL_EPOCH + dt.timedelta(days=int(value))
            raise ValueError(_("%(value)s is not a date") % {"value": value})
        text = unicodedata.normalize("NFKC", cell_text(value))
        match = _DATE_TEXT.match(text) or _COMPACT_DATE.match(text)
        if match:
            try:
                return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            except ValueError:
                pass
        raise ValueError(
            _("'%(value)s' is not a date; write it as YYYY-MM-DD, for example 2024-05-31")
            % {"value": text}
        )

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else value


class YesNoWidget(widgets.BooleanWidget):
    """Yes or no: 1/0, TRUE/FALSE, yes/no, y/n, 是/否; blank means "not given" (``None``)."""

    TRUE_TEXT = {"1", "true", "yes", "y", "是", "active", "t"}
    FALSE_TEXT = {"0", "false", "no", "n", "否", "inactive", "f"}

    def __init__(self) -> None:
        super().__init__(coerce_to_string=False)

    def clean(self, value, row=None, **kwargs) -> bool | None:
        if value is None or value is True or value is False:
            return value
        text = cell_text(value).casefold()
        if not text:
            return None
        if text in self.TRUE_TEXT:
            return True
        if text in self.FALSE_TEXT:
            return False
        raise ValueError(_("'%(value)s' is not yes or no (use 1 or 0)") % {"value": value})

    def render(self, value, obj=None, **kwargs):
        return "" if value is None else int(bool(value))


class NameWidget(widgets.ForeignKeyWidget):
    """A related row named in the sheet (a brand by its name), looked up case-insensitively in a
    cache loaded once per import (``load()``: one query), never one query per row."""

    def __init__(self, model, field: str = "name", label: str = "") -> None:
        super().__init__(model, field=field)
        self.label = label
        self.cache: dict[str, int] | None = None
        #: Names looked up and not found (casefolded -> as first written), for the preview's
        #: offer to create them.
        self.missing: dict[str, str] = {}

    def load(self) -> None:
        self.cache = {
            str(name).casefold(): pk
            for pk, name in self.model.objects.values_list("pk", self.field)
        }

    def clean(self, value, row=None, **kwargs) -> int | None:
        text = _SPACES.sub(" ", cell_text(value))
        if not text:
            return None
        if self.cache is None:
            self.load()
        pk = self.cache.get(text.casefold())
        if pk is None:
            self.missing.setdefault(text.casefold(), text)
            raise ValueError(_("'%(value)s' does not exist") % {"value": text})
        return pk

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return export_value(str(getattr(value, self.field, value)))


class CategoryWidget(NameWidget):
    """A category by its path ("Drinks > Beer") or, when unique, by its own name ("Beer")."""

    SEPARATOR = " > "

    def __init__(self, model) -> None:
        super().__init__(model, field="name")
        self.paths: dict[int, str] = {}
        self.ambiguous: dict[str, list[str]] = {}

    def load(self) -> None:
        rows = list(self.model.objects.values_list("pk", "parent_id", "name"))
        by_pk = {pk: (parent_id, name) for pk, parent_id, name in rows}
        self.paths = {}
        for pk in by_pk:
            names, seen, current = [], set(), pk
            while current is not None and current not in seen:
                seen.add(current)
                parent_id, name = by_pk[current]
                names.append(name)
                current = parent_id
            self.paths[pk] = self.SEPARATOR.join(reversed(names))
        cache: dict[str, int] = {}
        leaves: dict[str, list[int]] = {}
        for pk, path in self.paths.items():
            cache[self._norm(path)] = pk
            leaves.setdefault(self._norm(by_pk[pk][1]), []).append(pk)
        self.ambiguous = {}
        for name, pks in leaves.items():
            if len(pks) == 1:
                cache.setdefault(name, pks[0])
            else:
                self.ambiguous[name] = sorted(self.paths[pk] for pk in pks)
        self.cache = cache

    @classmethod
    def parts(cls, text: str) -> list[str]:
        """The names of a path as written ("Drinks > Beer" or "Drinks/Beer")."""
        return [part for part in (p.strip() for p in re.split(r"\s*[>/]\s*", text)) if part]

    @classmethod
    def _norm(cls, text: str) -> str:
        return cls.SEPARATOR.join(cls.parts(text)).casefold()

    def missing_paths(self) -> list[str]:
        """The category paths to create so that every missing name resolves: each missing path
        and its missing ancestors (a single name is a new top-level category), sorted."""
        existing = {self._norm(path) for path in self.paths.values()}
        wanted: dict[str, str] = {}
        for text in self.missing.values():
            names = self.parts(text)
            for end in range(1, len(names) + 1):
                path = self.SEPARATOR.join(names[:end])
                if self._norm(path) not in existing:
                    wanted.setdefault(self._norm(path), path)
        return sorted(wanted.values(), key=lambda path: (path.casefold(), path))

    def clean(self, value, row=None, **kwargs) -> int | None:
        text = _SPACES.sub(" ", cell_text(value))
        if not text:
            return None
        if self.cache is None:
            self.load()
        key = self._norm(text)
        pk = self.cache.get(key)
        if pk is None:
            if key in self.ambiguous:
                raise ValueError(
                    _("'%(value)s' is ambiguous; write the full path: %(paths)s")
                    % {
                        "value": text,
                        "paths": pgettext("list separator", "; ").join(self.ambiguous[key]),
                    }
                )
            self.missing.setdefault(key, self.SEPARATOR.join(self.parts(text)))
            raise ValueError(_("'%(value)s' does not exist") % {"value": text})
        return pk

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        path = self.paths.get(getattr(value, "pk", None))
        return export_value(path if path is not None else str(value))
