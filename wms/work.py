"""The home page's work list: each app registers a provider that says, for one user, how many
things wait for them (release requests to decide, drafts left open, imports never committed...)
and where the list of them is. ``wms`` never imports the apps; they register in ``ready()``.

A provider is ``provider(user) -> list[WorkItem]``: it checks the user's permissions itself,
returns only items the user may act on, and costs one indexed COUNT query per item.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class WorkAction:
    """A button beside a work item's row (a POST form), e.g. discarding a checked import."""

    label: str
    url: str
    button: str
    confirm: str = ""


@dataclass(frozen=True)
class WorkItem:
    key: str  # stable, for tests and CSS: "release_requests", "stale_drafts"...
    label: str
    count: int
    url: str
    help: str = ""
    order: int = 100
    actions: list[WorkAction] = field(default_factory=list)

    @property
    def needs_attention(self) -> bool:
        return self.count > 0


WorkProvider = Callable[[object], list[WorkItem]]
_providers: list[WorkProvider] = []


def register_work_provider(provider: WorkProvider) -> WorkProvider:
    if provider not in _providers:
        _providers.append(provider)
    return provider


def work_for(user) -> list[WorkItem]:
    """Every provider's items for ``user``, in their ``order``."""
    items: list[WorkItem] = []
    for provider in _providers:
        items.extend(provider(user))
    return sorted(items, key=lambda item: (item.order, item.key))
