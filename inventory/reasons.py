"""Movement reasons: ``StockMovement.reason`` stores codes, screens show labels.

A stored reason is one or more segments joined by ``SEPARATOR`` (" · "). Each segment is a
code (``"auto_release"``), a code with a detail (``"reversal: IN-000012: wrong goods"``), or a
person's own words (a sheet reference, a count reason), stored as typed. Nothing translated is
ever stored: the row reads the same in every language and in ten years.

``reason_label(stored)`` shows a stored reason in the active language: a registered code
becomes its label, and its detail follows the label after ": " (or fills the label's
``%(detail)s``); a detail that is itself a code is labelled too. Text that is not a code (a
person's words, rows written before codes) is shown as stored.

Write reasons with ``reason(code, detail="")`` and ``join_reasons(...)``; register each app's
codes once with ``register_reasons({code: gettext_lazy(label)})`` (the freezes app registers its
freeze reasons in ``FreezesConfig.ready``). ``StockMovement.reason_display`` is the label.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _

SEPARATOR = " · "
_DETAIL = ": "

#: Code -> lazy label. Labels with ``%(detail)s`` embed the detail; others are followed by it.
REASONS: dict[str, object] = {}


def register_reasons(labels: Mapping[str, object]) -> None:
    """Register reason codes (lowercase words and underscores) with their lazy labels."""
    for code, label in labels.items():
        if not code or not code.replace("_", "").isalnum() or code != code.lower():
            raise ValueError(f"not a reason code: {code!r}")
        REASONS[str(code)] = label


def reason(code: str, detail: object = "") -> str:
    """The stored form of ``code`` with an optional ``detail`` (a document number, a person's
    words, another code). ``code`` must be registered."""
    if code not in REASONS:
        raise ValueError(f"unknown reason code {code!r}")
    detail = str(detail or "").strip()
    return f"{code}{_DETAIL}{detail}" if detail else code


def join_reasons(*parts: str) -> str:
    """Segments joined by ``SEPARATOR``, empty ones left out."""
    return SEPARATOR.join(part for part in parts if part)


def reason_label(stored: str) -> str:
    """``stored`` in the active language (see the module docstring)."""
    if not stored:
        return ""
    return SEPARATOR.join(_segment_label(part) for part in stored.split(SEPARATOR))


def _segment_label(segment: str) -> str:
    code, found, detail = segment.partition(_DETAIL)
    label = REASONS.get(code.strip())
    if label is None:
        return segment
    text = str(label)
    if not found:
        return text.replace("%(detail)s", "").strip() if "%(detail)s" in text else text
    detail_label = str(REASONS.get(detail.strip(), detail)) if detail.strip() in REASONS else detail
    if "%(detail)s" in text:
        return text % {"detail": detail_label}
    return f"{text}{_DETAIL}{detail_label}"


register_reasons(
    {
        "reversal": _("Reversal of %(detail)s"),
        "receipt_reversal": _("reversal of a receipt"),
        "expired_shipped": _("expired batch shipped: %(detail)s"),
        "frozen_taken_out": _("frozen stock taken out"),
    }
)
