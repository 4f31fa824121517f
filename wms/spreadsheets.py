"""Spreadsheet safety shared by every export: text a spreadsheet app would execute is escaped.

A cell starting with ``= + - @``, a tab or a carriage return is run as a formula by Excel,
LibreOffice and Google Sheets (CSV/formula injection, OWASP). ``escape_formula`` prefixes such
text with an apostrophe; ``export_value`` keeps numbers, dates and booleans native (an xlsx
export has real numbers) and escapes all text. Escaping is idempotent, and our import widgets
strip the apostrophe again, so an export re-imports unchanged.

``SafeXLSX`` / ``SafeCSV`` are django-import-export formats for admin exports that escape every
cell this way (the library's own ``IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT`` only strips a
leading ``=`` and turns numbers into text, so it is off in settings).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import tablib
from import_export.formats import base_formats

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value: str) -> str:
    """Prefix text a spreadsheet would execute with an apostrophe."""
    if value and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def export_value(value: object) -> object:
    """The value an export writes for ``value``: native numbers/dates/bools, escaped text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return escape_formula(value)
    if isinstance(value, (bool, int, float, Decimal, dt.date)):
        return value
    return escape_formula(str(value))


def escaped_dataset(dataset: tablib.Dataset) -> tablib.Dataset:
    """A copy of ``dataset`` with every header and cell passed through ``export_value``."""
    safe = tablib.Dataset(headers=[export_value(h) for h in dataset.headers or []])
    for row in dataset:
        safe.append([export_value(cell) for cell in row])
    return safe


class SafeXLSX(base_formats.XLSX):
    def export_data(self, dataset, **kwargs):
        return super().export_data(escaped_dataset(dataset), **kwargs)


class SafeCSV(base_formats.CSV):
    def export_data(self, dataset, **kwargs):
        return super().export_data(escaped_dataset(dataset), **kwargs)
