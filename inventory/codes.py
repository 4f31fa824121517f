"""Reading what a scanner or a clerk typed: GTIN check digits (EAN-8, UPC-A, EAN-13, GTIN-14) and
GS1-128 element strings with application identifiers. Pure functions, no database: the resolver
(``inventory.selectors.scan``) turns the parsed code into goods, batches, bins and documents.

How GS1-128 arrives from a scanner, all accepted here:

* raw, with the symbology identifier ``]C1`` in front (scanners set to send AIM ids), or without;
* variable-length fields ended by the FNC1 group separator, sent as ASCII 29 (GS, ``\\x1d``); some
  keyboard wedges send it as ``<GS>``, ``^]`` or the ``\\xf1`` FNC1 code point instead;
* the human-readable form printed under the bars: ``(01)09501101530003(10)LOT7(17)271231``.

Reference: GS1 General Specifications, section 3 (application identifiers) and 7.9 (check digit).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from django.utils import timezone

GROUP_SEPARATOR = "\x1d"
_SEPARATOR_SPELLINGS = ("<GS>", "<gs>", "^]", "\xf1", "\u241d")  # ␝ is how some apps render GS
_SYMBOLOGY_PREFIXES = ("]C1", "]e0", "]d2", "]Q3")  # GS1-128, GS1 DataBar, DataMatrix, QR

# AI -> (fixed data length, or None for variable; maximum data length; numeric data only)
# The AIs a warehouse sees on cartons and pallets; an unknown AI makes the code unreadable
# rather than guessed at (a wrong split would read the wrong batch).
_AIS: dict[str, tuple[int | None, int, bool]] = {
    "00": (18, 18, True),  # SSCC, the pallet or parcel
    "01": (14, 14, True),  # GTIN of the trade item
    "02": (14, 14, True),  # GTIN of the contained items
    "10": (None, 20, False),  # batch or lot
    "11": (6, 6, True),  # production date
    "12": (6, 6, True),  # due date
    "13": (6, 6, True),  # packaging date
    "15": (6, 6, True),  # best before
    "16": (6, 6, True),  # sell by
    "17": (6, 6, True),  # expiry
    "20": (2, 2, True),  # internal product variant
    "21": (None, 20, False),  # serial number
    "22": (None, 20, False),  # consumer product variant
    "30": (None, 8, True),  # variable count
    "37": (None, 8, True),  # count of trade items in a logistic unit
    "240": (None, 30, False),  # additional product id
    "241": (None, 30, False),  # customer part number
    "250": (None, 30, False),  # secondary serial number
    "400": (None, 30, False),  # customer's purchase order number
    "401": (None, 30, False),  # consignment number
    "403": (None, 30, False),  # routing code
    "410": (13, 13, True),  # ship to GLN
    "414": (13, 13, True),  # GLN of a physical location
    "420": (None, 20, False),  # ship-to postal code
    "422": (3, 3, True),  # country of origin
}
# 310n..369n: measures (net weight, length, volume...) with n decimals: 6 digits, fixed.
for _head in range(310, 370):
    for _decimals in range(10):
        _AIS[f"{_head}{_decimals}"] = (6, 6, True)

_HRI_PART = re.compile(r"\((\d{2,4})\)([^()]*)")
_DATE_AIS = ("11", "12", "13", "15", "16", "17")


class CodeError(ValueError):
    """A code that cannot be read; ``str(error)`` is said to the clerk (already translated by the
    caller through ``code``)."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


def gtin_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit of ``body`` (the digits before the check digit): from the right,
    weights 3, 1, 3, 1...; the check digit brings the sum to a multiple of ten."""
    if not body.isascii() or not body.isdigit():
        raise ValueError("digits only")
    total = sum(
        int(digit) * (3 if position % 2 == 0 else 1)
        for position, digit in enumerate(reversed(body))
    )
    return (10 - total % 10) % 10


def is_valid_gtin(text: str) -> bool:
    """An EAN-8, UPC-A (12), EAN-13 or GTIN-14 whose last digit is its check digit."""
    if len(text) not in (8, 12, 13, 14) or not text.isascii() or not text.isdigit():
        return False
    return gtin_check_digit(text[:-1]) == int(text[-1])


def gtin_forms(gtin: str) -> list[str]:
    """Every spelling of one GTIN a goods' barcode may be stored as: the GTIN-14 and its shorter
    forms without leading zeros (GTIN-13 = EAN-13, GTIN-12 = UPC-A, GTIN-8 = EAN-8). A UPC-A
    ``012345678905`` is the EAN-13 ``0012345678905`` and the GTIN-14 ``00012345678905``."""
    if not is_valid_gtin(gtin):
        return []
    gtin14 = gtin.zfill(14)
    forms = [gtin14]
    for length in (13, 12, 8):
        if gtin14[: 14 - length] == "0" * (14 - length):
            forms.append(gtin14[14 - length :])
    return forms


def gs1_date(value: str) -> date | None:
    """YYMMDD as GS1 reads it: the century that puts the year within -49..+50 of this year; day
    00 means the last day of the month. None for an impossible date."""
    if len(value) != 6 or not value.isdigit():
        return None
    yy, month, day = int(value[:2]), int(value[2:4]), int(value[4:])
    this_year = timezone.localdate().year
    year = this_year - this_year % 100 + yy
    if year - this_year > 50:
        year -= 100
    elif year - this_year < -49:
        year += 100
    if not 1 <= month <= 12:
        return None
    if day == 0:
        next_month = date(year + month // 12, month % 12 + 1, 1)
        return date.fromordinal(next_month.toordinal() - 1)
    try:
        return date(year, month, day)
    except ValueError:
        return None


@dataclass(frozen=True)
class GS1Data:
    """The application identifiers of one GS1 element string, with the ones a warehouse uses
    read out: ``gtin`` (01 or 02), ``batch`` (10), ``expiry`` (17), ``best_before`` (15),
    ``production`` (11), ``serial`` (21), ``sscc`` (00), ``count`` (30/37)."""

    elements: dict[str, str] = field(default_factory=dict)

    @property
    def gtin(self) -> str:
        return self.elements.get("01") or self.elements.get("02", "")

    @property
    def batch(self) -> str:
        return self.elements.get("10", "")

    @property
    def serial(self) -> str:
        return self.elements.get("21", "")

    @property
    def sscc(self) -> str:
        return self.elements.get("00", "")

    @property
    def expiry(self) -> date | None:
        return gs1_date(self.elements["17"]) if "17" in self.elements else None

    @property
    def best_before(self) -> date | None:
        return gs1_date(self.elements["15"]) if "15" in self.elements else None

    @property
    def production(self) -> date | None:
        return gs1_date(self.elements["11"]) if "11" in self.elements else None

    @property
    def count(self) -> int | None:
        value = self.elements.get("30") or self.elements.get("37")
        return int(value) if value else None


def _ai_at(text: str, position: int) -> str | None:
    for length in (2, 3, 4):
        candidate = text[position : position + length]
        if len(candidate) == length and candidate in _AIS:
            return candidate
    return None


def _check_value(ai: str, value: str) -> None:
    fixed, maximum, numeric = _AIS[ai]
    if not value:
        raise CodeError(f"AI ({ai}) is empty", code="gs1_empty")
    if len(value) > maximum or (fixed is not None and len(value) != fixed):
        raise CodeError(f"AI ({ai}) has the wrong length", code="gs1_length")
    if numeric and not (value.isascii() and value.isdigit()):
        raise CodeError(f"AI ({ai}) must be digits", code="gs1_digits")
    if ai in ("00", "01", "02") and gtin_check_digit(value[:-1]) != int(value[-1]):
        raise CodeError(f"AI ({ai}) check digit is wrong", code="gs1_check_digit")
    if ai in _DATE_AIS and gs1_date(value) is None:
        raise CodeError(f"AI ({ai}) is not a date", code="gs1_date")


def _parse_raw(text: str) -> dict[str, str]:
    elements: dict[str, str] = {}
    position = 0
    while position < len(text):
        if text[position] == GROUP_SEPARATOR:
            position += 1
            continue
        ai = _ai_at(text, position)
        if ai is None:
            raise CodeError("unknown application identifier", code="gs1_unknown_ai")
        position += len(ai)
        fixed, maximum, _numeric = _AIS[ai]
        if fixed is not None:
            value = text[position : position + fixed]
            position += fixed
        else:
            end = text.find(GROUP_SEPARATOR, position)
            end = len(text) if end < 0 else end
            value = text[position:end]
            position = end
            if len(value) > maximum:
                raise CodeError(f"AI ({ai}) is too long", code="gs1_length")
        _check_value(ai, value)
        if ai in elements:
            raise CodeError(f"AI ({ai}) appears twice", code="gs1_repeated")
        elements[ai] = value
    return elements


def _parse_bracketed(text: str) -> dict[str, str]:
    elements: dict[str, str] = {}
    position = 0
    for match in _HRI_PART.finditer(text):
        if match.start() != position:
            raise CodeError("text outside the brackets", code="gs1_syntax")
        ai, value = match.group(1), match.group(2).strip()
        if ai not in _AIS:
            raise CodeError("unknown application identifier", code="gs1_unknown_ai")
        _check_value(ai, value)
        if ai in elements:
            raise CodeError(f"AI ({ai}) appears twice", code="gs1_repeated")
        elements[ai] = value
        position = match.end()
    if position != len(text) or not elements:
        raise CodeError("text outside the brackets", code="gs1_syntax")
    return elements


def normalize_scan(text: str) -> str:
    """A scanned or typed code without the wedge's noise: surrounding whitespace and line ends,
    the alternative spellings of the group separator turned into GS."""
    text = (text or "").strip().strip("\r\n\t")
    for spelling in _SEPARATOR_SPELLINGS:
        text = text.replace(spelling, GROUP_SEPARATOR)
    return text


def looks_like_gs1(text: str) -> bool:
    """Whether ``text`` (normalised) is meant as a GS1 element string: a symbology prefix, a group
    separator, the bracketed form, or a raw string starting with AI 01/02/00 that is longer than
    a plain GTIN."""
    if text.startswith(_SYMBOLOGY_PREFIXES) or GROUP_SEPARATOR in text:
        return True
    if text.startswith("(") and _HRI_PART.match(text):
        return True
    return (
        len(text) > 16
        and text[:2] in ("00", "01", "02")
        and text[2:16].isdigit()
        and text.isascii()
    )


def parse_gs1(text: str) -> GS1Data:
    """The application identifiers of a GS1 element string in any of the forms the module
    docstring lists. Raises ``CodeError`` for an unknown AI, a wrong length, a wrong GTIN check
    digit, an impossible date or a repeated AI: a misread must never be half-used."""
    text = normalize_scan(text)
    for prefix in _SYMBOLOGY_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    text = text.lstrip(GROUP_SEPARATOR)
    if len(text) > 200:
        raise CodeError("code too long", code="gs1_length")
    if text.startswith("("):
        return GS1Data(_parse_bracketed(text))
    return GS1Data(_parse_raw(text))


def gs1_element_string(elements: list[tuple[str, str]]) -> str:
    """The raw GS1-128 data of ``elements`` in order, with FNC1 (as ``\\xf1``, reportlab's
    Code128 spelling) leading and after every variable-length field that is not last: what a
    label encodes so that ``parse_gs1`` of the scan gives the same elements back."""
    parts = ["\xf1"]
    for index, (ai, value) in enumerate(elements):
        _check_value(ai, value)
        parts.append(ai + value)
        if _AIS[ai][0] is None and index < len(elements) - 1:
            parts.append("\xf1")
    return "".join(parts)


def gs1_human_readable(elements: list[tuple[str, str]]) -> str:
    """``(01)09501101530003(10)LOT7``: the line printed under a GS1-128 barcode."""
    return "".join(f"({ai}){value}" for ai, value in elements)
