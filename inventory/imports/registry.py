"""Which resources can be imported and exported, by key (used in URLs and by the commands)."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from inventory.imports.engine import SheetResource

_REGISTRY: dict[str, type[SheetResource]] = {}

# Modules of this package that hold machinery, not resources.
_INFRASTRUCTURE = {
    "engine",
    "errors",
    "exports",
    "files",
    "formats",
    "jobs",
    "registry",
    "templates",
    "widgets",
}


def register(resource_class: type[SheetResource]) -> type[SheetResource]:
    """Class decorator: make ``resource_class`` importable under its ``import_key``."""
    if not resource_class.import_key:
        raise ValueError(f"{resource_class.__name__} has no import_key")
    _REGISTRY[resource_class.import_key] = resource_class
    return resource_class


@cache
def autodiscover() -> None:
    """Import every resource module of this package (each registers its classes)."""
    package = importlib.import_module("inventory.imports")
    for module in pkgutil.iter_modules(package.__path__):
        if module.name not in _INFRASTRUCTURE and not module.name.startswith("_"):
            importlib.import_module(f"inventory.imports.{module.name}")


def get(key: str) -> type[SheetResource] | None:
    autodiscover()
    return _REGISTRY.get(key)


def all_resources() -> list[type[SheetResource]]:
    autodiscover()
    return sorted(_REGISTRY.values(), key=lambda resource: resource.import_key)


def can_import(user, resource_class: type[SheetResource]) -> bool:
    return bool(resource_class.import_permissions) and user.has_perms(
        resource_class.import_permissions
    )


def can_export(user, resource_class: type[SheetResource]) -> bool:
    return bool(resource_class.export_permissions) and user.has_perms(
        resource_class.export_permissions
    )


def importable_by(user) -> list[type[SheetResource]]:
    return [resource for resource in all_resources() if can_import(user, resource)]


def exportable_by(user) -> list[type[SheetResource]]:
    return [resource for resource in all_resources() if can_export(user, resource)]
