"""Why a grab request was answered as it was: stored as a code with its figures (history tables
keep codes, not translated text) and shown to the store manager in his language."""

from __future__ import annotations

from django.utils.translation import gettext as _

from wms.choices import choice_value

GRANTED = "granted"
PARTIAL_LEFT = "partial_left"
PARTIAL_CAP = "partial_cap"
PARTIAL_SHARE = "partial_share"
EXHAUSTED = "exhausted"
INACTIVE = "inactive"
NOT_ELIGIBLE_SCOPE = "not_in_scope"
LOW_SALES = "low_sales"
COVER_HIGH = "cover_high"
UNRECEIVED = "unreceived"
WINDOW_CAP = "window_cap"
NO_SHARE = "no_share"
CANCELLED = "cancelled"
WINDOW_CANCELLED = "window_cancelled"


def reason_text(code: str, params: dict | None) -> str:
    """The sentence for a reason code (empty for none)."""
    p = dict(params or {})
    if "method" in p:
        p["method"] = share_label(p["method"])
    texts = {
        GRANTED: lambda: _("Granted in full."),
        PARTIAL_LEFT: lambda: _("Only %(left)s were left in the pool.") % p,
        PARTIAL_CAP: lambda: _("Capped at %(cap)s units per store for this goods.") % p,
        PARTIAL_SHARE: lambda: _("Your share of the pool at the close (%(method)s).") % p,
        EXHAUSTED: lambda: _("Nothing is left in the pool."),
        INACTIVE: lambda: _("The store is inactive."),
        NOT_ELIGIBLE_SCOPE: lambda: _("This window is not open to this store."),
        LOW_SALES: lambda: (
            _("Sales in the last %(days)s days were %(sales)s, below the minimum of %(minimum)s.")
            % p
        ),
        COVER_HIGH: lambda: (
            _("The store has %(cover)s days of cover; only stores below %(limit)s may grab.") % p
        ),
        UNRECEIVED: lambda: (
            _("Order %(order)s has not been received for more than %(days)s days.") % p
        ),
        WINDOW_CAP: lambda: _("The store has reached its cap of %(cap)s units in this window.") % p,
        NO_SHARE: lambda: _("Stores ahead in the ranking took the whole pool (%(method)s).") % p,
        CANCELLED: lambda: _("Cancelled by the store."),
        WINDOW_CANCELLED: lambda: _("The window was cancelled."),
    }
    make = texts.get(code)
    if make is None:
        return code
    try:
        return make()
    except (KeyError, TypeError, ValueError):
        return code


def share_label(method: object) -> object:
    """A sharing method named in a reason, in the reader's language: given as its code
    (``pro_rata``) or, as older reasons stored it, as its label in any of the site's languages;
    anything else is shown as it is."""
    from allocation.models import Policy

    code = choice_value(Policy.Share, method)
    return method if code is None else str(Policy.Share(code).label)


def figure_items(figures: dict | None) -> list[tuple[str, object]]:
    """A decision's figures as (label in the reader's language, value), in the order below; a
    key without a label (a figure added later) is shown as stored, last."""
    labels = {
        "requested": _("Requested"),
        "left_before": _("Left before"),
        "goods_cap": _("Cap per goods"),
        "window_cap": _("Cap per store and window"),
        "window_taken": _("Granted in this window before"),
        "granted_before": _("Granted before the window was cancelled"),
        "seed": _("lottery seed"),
        "sales": _("Sales in lookback"),
        "avg_daily": _("Average daily sales"),
        "on_hand": _("Store on hand"),
        "cover": _("Days of cover"),
        "fixed_rank": _("Fixed rank"),
        "offered": _("Offered in the pool"),
        "counted": _("Counted after caps"),
        "place": _("Place in the pool's order"),
        "of": _("Requests in the pool's order"),
    }
    order = {key: n for n, key in enumerate(labels)}  # stored jsonb keeps its own key order
    items = sorted((figures or {}).items(), key=lambda item: order.get(item[0], len(order)))
    return [(labels.get(key, key), value) for key, value in items]


def rule_label(code: str) -> str:
    """The rule a decision applied, in the reader's language (decisions store the code)."""
    from allocation.models import Policy

    labels = {
        "first_come": _("First come"),
        "eligibility": _("Eligibility"),
        "window_cap": _("Cap per store and window"),
        "window_cancelled": _("Window cancelled"),
        **{value: str(label) for value, label in Policy.Share.choices},
    }
    return labels.get(code, code)
