"""Extension points other apps register into; ``warehouses`` never imports them.

Apps higher up (``inventory``) register from their ``AppConfig.ready()``::

    from warehouses import hooks

    class InventoryConfig(AppConfig):
        def ready(self):
            hooks.register_bin_deactivation_guard(bins_holding_stock)
            hooks.register_bin_contents_provider(bin_stock_summary)

Three registries:

``bin_deactivation_guards``
    Callables ``(bins: list[Bin]) -> dict[int, str]``. Given bins about to be deactivated, return
    a translated refusal message per bin id that must stay active (e.g. "bin A-01 still holds 12
    units"); return ``{}`` (or omit the bin) to allow it. They run inside the deactivating
    transaction, after ``bin_deactivate`` / ``warehouse_deactivate`` have locked the bin rows
    (``SELECT ... FOR UPDATE``, in primary-key order), so a guard reads a state no deactivation can
    race with. A writer that puts stock into a bin should take the bin row lock too (or re-check
    ``is_active`` under its own lock) so that it either sees the bin inactive or is seen by the
    guard. Guards must not write and must not do network I/O. One call per action, with every
    bin of that action (all bins of a warehouse being deactivated), so a guard should answer
    with a constant number of queries.

``bin_contents_providers``
    Callables ``(bin_ids: list[int], *, user) -> dict[int, dict[str, object]]`` (``user``: who
    looks, so a provider shows only what that user may open). For the bins on one page
    of the bin lookup, return per bin id an ordered mapping of label to value (e.g.
    ``{"SKU-001 Phone": 12, "SKU-002 Case": 3}``); labels are shown as given (translate them),
    values through ``str``. Called once per page, never per row, so answer with a constant number
    of queries. Bins missing from the answer show nothing. With several providers, each bin's
    pairs are shown in registration order.

``bin_search_providers``
    Callables ``(text: str, warehouse_id: int | None) -> Iterable[int]``. For the bin lookup's
    search box, the ids of bins whose contents match ``text`` (inventory: bins holding stock of
    goods with that SKU prefix, barcode or name), within ``warehouse_id`` when given. One query
    per call, whatever the number of bins; the lookup shows those bins beside the bins whose code
    starts with ``text``.
"""

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from django.utils.translation import pgettext

if TYPE_CHECKING:
    from warehouses.models import Bin

BinDeactivationGuard = Callable[[list["Bin"]], Mapping[int, str]]
BinContentsProvider = Callable[..., Mapping[int, Mapping[str, object]]]
BinSearchProvider = Callable[[str, int | None], Iterable[int]]

bin_deactivation_guards: list[BinDeactivationGuard] = []
bin_contents_providers: list[BinContentsProvider] = []
bin_search_providers: list[BinSearchProvider] = []


def register_bin_deactivation_guard(guard: BinDeactivationGuard) -> BinDeactivationGuard:
    """Add ``guard`` once (registering twice is harmless); returns it, so it works as a decorator."""
    if guard not in bin_deactivation_guards:
        bin_deactivation_guards.append(guard)
    return guard


def unregister_bin_deactivation_guard(guard: BinDeactivationGuard) -> None:
    if guard in bin_deactivation_guards:
        bin_deactivation_guards.remove(guard)


def register_bin_contents_provider(provider: BinContentsProvider) -> BinContentsProvider:
    """Add ``provider`` once (registering twice is harmless); returns it."""
    if provider not in bin_contents_providers:
        bin_contents_providers.append(provider)
    return provider


def unregister_bin_contents_provider(provider: BinContentsProvider) -> None:
    if provider in bin_contents_providers:
        bin_contents_providers.remove(provider)


def bin_deactivation_refusals(bins: list["Bin"]) -> dict[int, str]:
    """Ask every guard about ``bins``; the reasons per bin id, several joined with "; ".

    The caller must hold the row locks of ``bins`` (see the module docstring).
    """
    if not bins or not bin_deactivation_guards:
        return {}
    reasons: dict[int, list[str]] = {}
    for guard in list(bin_deactivation_guards):
        for bin_id, reason in (guard(list(bins)) or {}).items():
            reasons.setdefault(bin_id, []).append(str(reason))
    separator = pgettext("list separator", "; ")
    return {bin_id: separator.join(messages) for bin_id, messages in reasons.items()}


def bin_contents(bin_ids: list[int], *, user) -> dict[int, list[tuple[str, object]]]:
    """What each bin holds, as ``(label, value)`` pairs from every provider; one call each."""
    if not bin_ids or not bin_contents_providers:
        return {}
    contents: dict[int, list[tuple[str, object]]] = {}
    for provider in list(bin_contents_providers):
        for bin_id, pairs in (provider(list(bin_ids), user=user) or {}).items():
            contents.setdefault(bin_id, []).extend((str(k), v) for k, v in pairs.items())
    return contents


def register_bin_search_provider(provider: BinSearchProvider) -> BinSearchProvider:
    """Add ``provider`` once (registering twice is harmless); returns it."""
    if provider not in bin_search_providers:
        bin_search_providers.append(provider)
    return provider


def unregister_bin_search_provider(provider: BinSearchProvider) -> None:
    if provider in bin_search_providers:
        bin_search_providers.remove(provider)


def bins_matching(text: str, warehouse_id: int | None = None) -> set[int]:
    """Ids of bins whose contents match ``text``, from every provider; one call each."""
    if not text or not bin_search_providers:
        return set()
    found: set[int] = set()
    for provider in list(bin_search_providers):
        found.update(provider(text, warehouse_id) or ())
    return found
