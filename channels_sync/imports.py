"""Bulk binding and unbinding from the Excel template (绑定/解绑导入), through the import engine
(``inventory.imports``: template download, dry run with row errors, all-or-nothing commit).

One row per step: shop (name or domain), warehouse code, goods SKU (optional), action, and the
allotment or priority where the action takes one:

==========  ==============  ===================================================================
action      SKU             effect
==========  ==============  ===================================================================
bind        blank           the warehouse feeds the shop (``priority``: optional, next free)
bind        given           the goods counts all its stock there again (its exception removed)
unbind      blank           the warehouse no longer feeds the shop (its exceptions go with it)
unbind      given           the goods is unbound from that warehouse for the shop
exception   given           the goods counts at most ``allotment`` there (fixed allotment)
==========  ==============  ===================================================================

The rows of a shop are applied in file order to its current bindings, and the result is ONE
binding change per shop (``services.bindings.binding_change_request``, action "bulk"), requested
by the importer: where the shop requires review it waits for a supervisor, another user, to
confirm it on the bindings screen (its review page shows the per-listing preview), like a
change made on the screen. The dry run asks the same service, so its refusals (an exception on
a warehouse that is not bound, nothing would change) show as row errors, and nothing is
written; and it is the guide's preview: per shop, the listings whose sellable quantity changes,
before -> after (``_preview_note``, in the check result's notes).
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models.functions import Lower
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export.fields import Field

from channels_sync.exceptions import ChannelError
from channels_sync.models import BindingChange, Shop
from channels_sync.selectors import binding_state
from channels_sync.services.bindings import binding_change_request, binding_preview, state_with
from inventory.imports import references
from inventory.imports.engine import ImportContext, SheetResource, SheetRow
from inventory.imports.registry import register
from inventory.imports.widgets import CodeWidget, IntegerWidget, TextWidget
from inventory.ledger import MAX_QUANTITY
from inventory.models import Goods

ACTION_WORDS = {
    "bind": ("bind", "绑定"),
    "unbind": ("unbind", "解绑"),
    "exception": ("exception", "allotment", "固定分配", "例外"),
}


@register
class BindingSheetResource(SheetResource):
    import_key = "channel_bindings"
    import_label = gettext_lazy("Shop warehouse bindings (bind / unbind)")
    import_permissions = ("channels_sync.request_binding_change",)
    export_permissions = ()
    required_columns = ("shop", "warehouse", "action")
    required_values = ("shop", "warehouse", "action")
    column_labels = {
        "shop": gettext_lazy("Shop"),
        "warehouse": gettext_lazy("Warehouse code"),
        "sku": gettext_lazy("Goods SKU"),
        "action": gettext_lazy("Action"),
        "allotment": gettext_lazy("Allotment"),
        "priority": gettext_lazy("Priority"),
    }
    column_aliases = {
        "shop": ("店铺", "店铺名称"),
        "warehouse": ("仓库", "仓库编码"),
        "sku": ("货品编码", "商品编码"),
        "action": ("操作",),
        "allotment": ("分配数量", "固定分配"),
        "priority": ("优先级",),
    }
    column_notes = {
        "shop": gettext_lazy("Required. The shop's name or domain."),
        "warehouse": gettext_lazy("Required. The code of an active warehouse."),
        "sku": gettext_lazy(
            "Optional. Blank: the row binds or unbinds the whole warehouse. Given: the row sets "
            "that goods' rule at the warehouse."
        ),
        "action": gettext_lazy(
            "Required. bind, unbind, or exception (a fixed allotment; needs a SKU and the "
            "allotment)."
        ),
        "allotment": gettext_lazy("For exception rows: a whole number of at least 0."),
        "priority": gettext_lazy(
            "Optional, for bind rows without SKU: 1 is used first (default: after the others)."
        ),
    }
    example_row = {
        "shop": "EXAMPLE-SHOP",
        "warehouse": "EXAMPLE-WH",
        "sku": "EXAMPLE-0001",
        "action": "exception",
        "allotment": 10,
        "priority": "",
    }

    shop = Field(attribute="shop", column_name="shop", widget=TextWidget())
    warehouse = Field(attribute="warehouse", column_name="warehouse", widget=CodeWidget())
    sku = Field(attribute="sku", column_name="sku", widget=CodeWidget())
    action = Field(attribute="action", column_name="action", widget=TextWidget())
    allotment = Field(attribute="allotment", column_name="allotment", widget=IntegerWidget())
    priority = Field(attribute="priority", column_name="priority", widget=IntegerWidget())

    class Meta:
        name = gettext_lazy("Shop warehouse bindings")

    def begin_import(self, ctx: ImportContext) -> None:
        shops = {}
        for pk, name, domain in Shop.objects.values_list("pk", "name", "domain"):
            shops[name.strip().lower()] = pk
            if domain:
                shops.setdefault(domain.strip().lower(), pk)
        ctx.state["shops"] = shops
        ctx.state[references.STATE_KEY] = references.warehouses_by_code()
        ctx.state["steps"] = defaultdict(list)  # shop id -> [(row number, step)]

    def validate_batch(self, rows: list[SheetRow], ctx: ImportContext) -> None:
        skus = {row.values["sku"].lower() for row in rows if row.ok and row.values.get("sku")}
        goods = {
            sku: (pk, active)
            for pk, sku, active in Goods.objects.annotate(s=Lower("sku"))
            .filter(s__in=skus)
            .values_list("pk", "s", "is_active")
        }
        for row in rows:
            if row.ok:
                self._check_row(row, ctx, goods)

    def _check_row(self, row: SheetRow, ctx: ImportContext, goods: dict) -> None:
        values = row.values
        shop_id = ctx.state["shops"].get(values["shop"].strip().lower())
        if shop_id is None:
            ctx.error(row, "shop", _("shop '%(name)s' does not exist") % {"name": values["shop"]})
            return
        warehouse = references.row_warehouse(ctx, row, values["warehouse"])
        if warehouse is None or not warehouse[1]:
            return
        action = _action(values["action"])
        if action is None:
            ctx.error(row, "action", _("must be bind, unbind or exception"))
            return
        goods_id = None
        if values.get("sku"):
            found = goods.get(values["sku"].lower())
            if found is None:
                ctx.error(row, "sku", _("goods '%(sku)s' does not exist") % {"sku": values["sku"]})
                return
            goods_id = found[0]
        allotment = values.get("allotment")
        if action == "exception":
            if goods_id is None:
                ctx.error(row, "sku", _("an exception names the goods: give its SKU"))
                return
            if allotment is None or allotment < 0:
                ctx.error(row, "allotment", _("give the allotment, a whole number of at least 0"))
                return
            if allotment > MAX_QUANTITY:
                ctx.error(
                    row,
                    "allotment",
                    _("an allotment may not exceed %(max)s units") % {"max": f"{MAX_QUANTITY:,}"},
                )
                return
        priority = values.get("priority")
        if priority is not None and not 1 <= priority <= 999:
            ctx.error(row, "priority", _("must be between 1 and 999"))
            return
        ctx.state["steps"][shop_id].append(
            (row.number, (action, warehouse[0], goods_id, allotment, priority))
        )

    def finish_import(self, ctx: ImportContext) -> None:
        if not ctx.report.ok or not ctx.state["steps"]:
            return
        if ctx.user is None:
            first = min(n for steps in ctx.state["steps"].values() for n, _s in steps)
            ctx.error(first, "", _("A binding change is requested by a user: name one (--user)."))
            return
        shops = Shop.objects.in_bulk(list(ctx.state["steps"]))
        for shop_id, steps in ctx.state["steps"].items():
            shop = shops[shop_id]
            state = binding_state(shop)
            for _number, (action, warehouse_id, goods_id, allotment, priority) in steps:
                state = _apply_step(state, action, warehouse_id, goods_id, allotment, priority)
            summary = _("Import of %(count)s rows") % {"count": len(steps)}
            preview = binding_preview(shop, state)  # before the change: today's bindings
            try:
                change = binding_change_request(
                    shop=shop,
                    after=state,
                    action=BindingChange.Action.BULK,
                    summary=summary,
                    user=ctx.user,
                )
            except ChannelError as error:
                ctx.error(steps[0][0], "shop", f"{shop.name}: {error.message}")
                continue
            ctx.report.notes.append(_preview_note(shop, preview, change, ctx.dry_run))


PREVIEW_LISTINGS = 30  # listings named per shop in the check result; the rest are counted


def _preview_note(shop: Shop, preview: list[dict], change: BindingChange, dry_run: bool) -> str:
    """The guide's preview in the check result: per shop, the listings whose sellable
    quantity changes, before -> after (the first ``PREVIEW_LISTINGS``); after the import, also
    whether the change is applied or waits for review."""
    changed = [p for p in preview if p["changed"]]
    note = _("%(shop)s: %(count)s of %(total)s listings change their sellable quantity") % {
        "shop": shop.name,
        "count": len(changed),
        "total": len(preview),
    }
    if changed:
        note += ": " + "; ".join(
            f"{p['listing'].sku} {p['before']} → {p['after']}" for p in changed[:PREVIEW_LISTINGS]
        )
        if len(changed) > PREVIEW_LISTINGS:
            note += "; " + _("and %(count)s more") % {"count": len(changed) - PREVIEW_LISTINGS}
    if not dry_run:
        if change.status == BindingChange.Status.PENDING:
            status = _("change #%(id)s waits for a supervisor's review") % {"id": change.pk}
        else:
            status = _("change #%(id)s applied") % {"id": change.pk}
        note += f" ({status})"
    return note + "."


def _action(text: str) -> str | None:
    word = (text or "").strip().lower()
    for action, words in ACTION_WORDS.items():
        if word in words:
            return action
    return None


def _apply_step(state, action, warehouse_id, goods_id, allotment, priority):
    if goods_id is None:
        if action == "bind":
            current = dict(state.warehouses)
            if priority is None:
                priority = current.get(warehouse_id) or len(current) + 1
            return state_with(state, bind=(warehouse_id, priority))
        return state_with(state, unbind=warehouse_id)
    if action == "bind":
        return state_with(state, exception=(warehouse_id, goods_id, None, None, None))
    if action == "unbind":
        return state_with(state, exception=(warehouse_id, goods_id, None, "unbound", None))
    return state_with(state, exception=(warehouse_id, goods_id, None, "allotment", allotment))
