"""Typed domain errors of the inventory app, both ``wms.errors.DomainError`` subclasses.

* ``StockError``: the stock ledger (``inventory.ledger``) and the stock services;
* ``GoodsError``: the goods catalogue services (``inventory.services.goods``).

Views, imports, tasks and the API catch them and show ``str(error)`` (a translated, complete
sentence) to the user; forms take them through ``wms.forms.DomainErrorFormMixin``. Raising one
always means nothing was written: the transaction is rolled back.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from wms.errors import DomainError


class StockError(DomainError):
    """Base class: a request the ledger refuses. ``str(error)`` is the message for the user."""

    code = "stock_error"


class InvalidQuantity(StockError):
    """A quantity that is not a positive whole number, or more than can be taken back."""

    code = "invalid_quantity"


class InvalidInput(StockError):
    """Input the ledger cannot act on: a missing reason, a batch of another goods, the same
    bin as source and destination, an unknown kind..."""

    code = "invalid_input"


class InsufficientStock(StockError):
    """Less is available than asked for. ``shortfall`` is how many units are missing.

    When the ledger passes ``on_hand``/``frozen``/``reserved`` (the figures of the balances it
    looked at) and their ``balance_ids``, the message explains where the rest of the stock is:
    "Not enough MASK-BOX-50: 50 requested, 0 available: 200 on hand, 200 frozen by FRZ-000004
    (Damaged)." The freezes holding it come from the ``frozen_holders`` provider
    (``inventory.hooks``; one query, on this refusal path only) and are kept in ``holders``
    so screens can link each to its release request (``message_html``)."""

    code = "insufficient_stock"

    def __init__(
        self,
        message: str = "",
        *,
        requested: int = 0,
        available: int = 0,
        goods_label: str = "",
        on_hand: int | None = None,
        frozen: int = 0,
        reserved: int = 0,
        balance_ids: tuple[int, ...] | list[int] = (),
    ) -> None:
        self.requested = requested
        self.available = available
        self.shortfall = max(requested - available, 0)
        self.goods_label = goods_label
        self.on_hand = on_hand
        self.frozen = frozen
        self.reserved = reserved
        self.balance_ids = tuple(sorted(set(balance_ids)))
        self.holders: list = []
        if not message and on_hand is not None:
            message = self._explained()
        if not message:
            message = _(
                "Not enough stock of %(goods)s: %(requested)s requested, %(available)s "
                "available (short by %(shortfall)s)."
            ) % {
                "goods": goods_label or _("this goods"),
                "requested": requested,
                "available": available,
                "shortfall": self.shortfall,
            }
        super().__init__(message)

    def _explained(self) -> str:
        from inventory import hooks

        figures = {
            "goods": self.goods_label or _("this goods"),
            "requested": self.requested,
            "available": self.available,
            "on_hand": self.on_hand,
        }
        parts = [
            _("Not enough %(goods)s: %(requested)s requested, %(available)s available: ") % figures
            + _("%(on_hand)s on hand") % figures
        ]
        if self.frozen:
            self.holders = hooks.frozen_holders(list(self.balance_ids)) if self.balance_ids else []
            names = pgettext("enumeration separator", ", ").join(
                holder.label for holder in self.holders
            )
            if names:
                parts.append(
                    _("%(frozen)s frozen by %(names)s") % {"frozen": self.frozen, "names": names}
                )
            else:
                parts.append(_("%(frozen)s frozen") % {"frozen": self.frozen})
        if self.reserved:
            parts.append(_("%(reserved)s reserved") % {"reserved": self.reserved})
        return pgettext("enumeration separator", ", ").join(parts) + "."

    @property
    def message_html(self):
        """The message with a "request release" link per freeze holding the stock."""
        from django.utils.html import format_html, format_html_join

        if not self.holders:
            return super().message_html
        links = format_html_join(
            " ",
            '<a class="release-link" href="{}">{} →</a>',
            (
                (holder.release_url, _("request release of %(freeze)s") % {"freeze": holder.ref})
                for holder in self.holders
                if holder.release_url
            ),
        )
        return format_html("{} {}", self.message, links)


class NotAllowed(StockError):
    """The operation is not allowed in this state or for these objects (inactive bin or goods,
    a bin of another warehouse, frozen stock on a normal shipment, a posted document...)."""

    code = "not_allowed"


class ExpiredBatch(NotAllowed):
    """Shipping an expired batch without the explicit override and a reason."""

    code = "expired_batch"


class AlreadyPosted(NotAllowed):
    """The same operation (idempotency key) or document was posted already: double submit,
    a second browser tab, a replayed task. Nothing was written the second time."""

    code = "already_posted"


class GoodsError(DomainError):
    """Base of the catalogue's refusals; ``field`` names the form field at fault, if any."""

    code = "goods_error"


class DuplicateSku(GoodsError):
    code = "duplicate_sku"
    field = "sku"


class DuplicateBarcode(GoodsError):
    code = "duplicate_barcode"
    field = "barcode"


class InvalidGoods(GoodsError):
    """A value the catalogue cannot store (a blank SKU, a negative weight...)."""

    code = "invalid_goods"


class ComboLoop(GoodsError):
    """The combo would contain itself, directly or through another combo."""

    code = "combo_loop"
    field = "component"


class DuplicateBatch(GoodsError):
    code = "duplicate_batch"
    field = "batch_no"
