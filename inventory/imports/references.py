"""Codes a sheet row names that must exist elsewhere, checked the same way by every import.

``warehouses_by_code()`` is read once per import (``begin_import``) into ``ctx.state``;
``row_warehouse(ctx, row, code)`` looks a row's code up in it, records the row error ("does not
exist" or "is inactive") and returns ``(pk, is_active)``, or None when there is no such
warehouse. An inactive one is returned with its error recorded, so the caller decides whether
to check the rest of the row.
"""

from __future__ import annotations

from django.db.models.functions import Upper
from django.utils.translation import gettext as _

from inventory.imports.engine import ImportContext, SheetRow
from warehouses.models import Warehouse

STATE_KEY = "warehouses"


def warehouses_by_code() -> dict[str, tuple[int, bool]]:
    """Every warehouse by its upper-cased code: ``(pk, is_active)`` (one query)."""
    return {
        code: (pk, active)
        for pk, code, active in Warehouse.objects.annotate(u=Upper("code")).values_list(
            "pk", "u", "is_active"
        )
    }


def row_warehouse(
    ctx: ImportContext, row: SheetRow, code: str, *, field: str = "warehouse"
) -> tuple[int, bool] | None:
    warehouse = ctx.state[STATE_KEY].get(code.upper())
    if warehouse is None:
        ctx.error(row, field, _("warehouse '%(code)s' does not exist") % {"code": code})
        return None
    if not warehouse[1]:
        ctx.error(row, field, _("warehouse '%(code)s' is inactive") % {"code": code})
    return warehouse
