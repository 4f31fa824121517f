"""The six roles of ARCHITECTURE.md §4 as Django groups, and the permissions each holds.

Groups are created and kept in step by data migrations: every app that adds models or
permissions adds a migration calling ``sync_roles(apps)`` after its own tables exist.
Permissions not created yet (an app whose models come in a later migration) are skipped here and
picked up by that app's migration; a test checks that every listed permission exists.
"""

from django.utils.translation import gettext_lazy as _

ADMINISTRATOR = "Administrator"
WAREHOUSE_MANAGER = "Warehouse manager"
QC_INSPECTOR = "QC inspector"
WAREHOUSE_STAFF = "Warehouse staff"
STORE_MANAGER = "Store manager"
CHANNEL_OPERATOR = "Channel operator"

ROLE_LABELS = {
    ADMINISTRATOR: _("Administrator"),
    WAREHOUSE_MANAGER: _("Warehouse manager"),
    QC_INSPECTOR: _("QC inspector"),
    WAREHOUSE_STAFF: _("Warehouse staff"),
    STORE_MANAGER: _("Store manager"),
    CHANNEL_OPERATOR: _("Channel operator"),
}

ALL = "*"

_WAREHOUSE_VIEW = [
    "warehouses.view_warehouse",
    "warehouses.view_zone",
    "warehouses.view_bin",
]
_WAREHOUSE_EDIT = [
    "warehouses.add_warehouse",
    "warehouses.change_warehouse",
    "warehouses.add_zone",
    "warehouses.change_zone",
    "warehouses.add_bin",
    "warehouses.change_bin",
]

# Group name -> permission names ("app_label.codename"), or ALL for every permission.
ROLES: dict[str, list[str] | str] = {
    ADMINISTRATOR: ALL,
    WAREHOUSE_MANAGER: [*_WAREHOUSE_VIEW, *_WAREHOUSE_EDIT],
    QC_INSPECTOR: [*_WAREHOUSE_VIEW],
    WAREHOUSE_STAFF: [*_WAREHOUSE_VIEW, *_WAREHOUSE_EDIT],
    STORE_MANAGER: [],
    CHANNEL_OPERATOR: ["warehouses.view_warehouse"],
}

# inventory: stock (ledger, sheets, transfers, counts). Posting a count (adjust_stock),
# switching a count blind or not (change_blind_mode) and shipping expired batches
# (ship_expired) are for managers; staff draft counts.
_STOCK_VIEW = [
    "inventory.view_stockbalance",
    "inventory.view_stockmovement",
    "inventory.view_inboundsheet",
    "inventory.view_outboundsheet",
    "inventory.view_stocktransfer",
    "inventory.view_stockcount",
]
_STOCK_WORK = [
    *[
        f"inventory.{verb}_{model}"
        for verb in ("add", "change", "delete")
        for model in ("inboundsheet", "outboundsheet", "stockcount")
    ],
    "inventory.add_stocktransfer",
    "inventory.change_stocktransfer",
    "inventory.post_sheet",
    "inventory.transfer_stock",
    "inventory.export_stock",
]
_STOCK_MANAGE = [
    "inventory.adjust_stock",
    "inventory.change_blind_mode",
    "inventory.ship_expired",
    "inventory.ship_frozen",
]
for _group, _stock_permissions in {
    WAREHOUSE_MANAGER: [*_STOCK_VIEW, *_STOCK_WORK, *_STOCK_MANAGE],
    QC_INSPECTOR: _STOCK_VIEW,
    WAREHOUSE_STAFF: [*_STOCK_VIEW, *_STOCK_WORK],
    CHANNEL_OPERATOR: ["inventory.view_stockbalance"],
}.items():
    ROLES[_group] = [*ROLES[_group], *_stock_permissions]

# freezes: staff and QC freeze stock and ask for releases; only managers approve releases, scrap
# or return frozen stock and edit auto-freeze rules; QC inspectors record inspections.
_FREEZE_VIEW = [
    f"freezes.view_{model}"
    for model in (
        "freeze",
        "freezeline",
        "freezeevent",
        "freezerule",
        "releaserequest",
        "qualityinspection",
    )
]
_FREEZE_WORK = [
    "freezes.add_freeze",
    "freezes.change_freeze",
    "freezes.request_release",
    "freezes.export_freezes",
]
_FREEZE_MANAGE = [
    "freezes.approve_release",
    "freezes.ship_frozen",
    "freezes.add_freezerule",
    "freezes.change_freezerule",
    "freezes.add_qualityinspection",
]
for _group, _freeze_permissions in {
    WAREHOUSE_MANAGER: [*_FREEZE_VIEW, *_FREEZE_WORK, *_FREEZE_MANAGE],
    QC_INSPECTOR: [*_FREEZE_VIEW, *_FREEZE_WORK, "freezes.add_qualityinspection"],
    WAREHOUSE_STAFF: [*_FREEZE_VIEW, *_FREEZE_WORK],
}.items():
    ROLES[_group] = [*ROLES[_group], *_freeze_permissions]

# inventory: goods (catalogue, combos, batches, imports/exports). Managers keep the catalogue;
# staff and QC look it up, staff record batches; channel operators read it for listings.
_GOODS_VIEW = [
    f"inventory.view_{model}" for model in ("goods", "category", "brand", "combocomponent", "batch")
]
_GOODS_EDIT = [
    *[
        f"inventory.{verb}_{model}"
        for verb in ("add", "change")
        for model in ("goods", "category", "brand", "batch")
    ],
    *[f"inventory.{verb}_combocomponent" for verb in ("add", "change", "delete")],
]
for _group, _goods_permissions in {
    WAREHOUSE_MANAGER: [*_GOODS_VIEW, *_GOODS_EDIT],
    QC_INSPECTOR: _GOODS_VIEW,
    WAREHOUSE_STAFF: [*_GOODS_VIEW, "inventory.add_batch", "inventory.change_batch"],
    STORE_MANAGER: ["inventory.view_goods"],
    CHANNEL_OPERATOR: _GOODS_VIEW,
}.items():
    ROLES[_group] = [*ROLES[_group], *_goods_permissions]


# allocation: store managers grab for their own stores (Store.objects.for_user), follow their
# requests and orders, receive orders and file returns; warehouse managers run everything.
_ALLOCATION_STORE = [
    "allocation.grab",
    "allocation.view_store",
    "allocation.view_grabwindow",
    "allocation.view_grabrequest",
    "allocation.view_replenishmentorder",
    "allocation.receive_order",
    "allocation.view_storereturn",
    "allocation.add_storereturn",
    "allocation.view_storesales",
    "allocation.add_storesales",
]
_ALLOCATION_MANAGE = [
    "allocation.view_all_stores",
    "allocation.add_store",
    "allocation.change_store",
    "allocation.view_policy",
    "allocation.add_policy",
    "allocation.change_policy",
    "allocation.manage_windows",
    "allocation.view_grabdecision",
    "allocation.ship_order",
    "allocation.receive_return",
]
for _group, _allocation_permissions in {
    WAREHOUSE_MANAGER: [*_ALLOCATION_STORE, *_ALLOCATION_MANAGE],
    WAREHOUSE_STAFF: [
        "allocation.view_all_stores",
        "allocation.view_store",
        "allocation.view_grabwindow",
        "allocation.view_replenishmentorder",
        "allocation.view_storereturn",
        "allocation.ship_order",
        "allocation.receive_return",
    ],
    STORE_MANAGER: _ALLOCATION_STORE,
}.items():
    ROLES[_group] = [*ROLES[_group], *_allocation_permissions]


def sync_roles(apps) -> None:
    """Create the role groups and set their permissions. Safe to run any number of times.

    ``apps`` is a migration's historical registry (or django.apps.apps). Permissions of every
    migrated app are created first, since Django would otherwise add them only after migrate.
    """
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        had_models = getattr(app_config, "models_module", None)
        app_config.models_module = had_models or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = had_models

    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    by_name = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in permission_model.objects.values_list(
            "pk", "content_type__app_label", "codename"
        )
    }
    for group_name, wanted in ROLES.items():
        group, _created = group_model.objects.get_or_create(name=group_name)
        if wanted == ALL:
            ids = list(by_name.values())
        else:
            ids = [by_name[name] for name in wanted if name in by_name]
        group.permissions.set(ids)


# channels_sync: channel operators keep shops, sync and match listings, push stock and request
# binding changes; warehouse managers confirm binding changes (the second person of the review)
# and read the sync log.
_CHANNEL_VIEW = [
    f"channels_sync.view_{model}"
    for model in ("shop", "listing", "binding", "bindingexception", "bindingchange", "syncrecord")
]
_CHANNEL_WORK = [
    "channels_sync.add_shop",
    "channels_sync.change_shop",
    "channels_sync.push_stock",
    "channels_sync.sync_products",
    "channels_sync.request_binding_change",
]
for _group, _channel_permissions in {
    CHANNEL_OPERATOR: [*_CHANNEL_VIEW, *_CHANNEL_WORK],
    WAREHOUSE_MANAGER: [*_CHANNEL_VIEW, "channels_sync.confirm_binding"],
}.items():
    ROLES[_group] = [*ROLES[_group], *_channel_permissions]

# channels_sync orders (issue 12): channel operators and warehouse managers see orders and
# confirm them (book, ship); channel operators keep logistics rules and carriers.
_ORDER_VIEW = [
    f"channels_sync.view_{model}"
    for model in ("order", "orderpull", "logisticsrule", "carrier", "shipment")
]
_ORDER_WORK = [
    "channels_sync.confirm_order",
    "channels_sync.add_logisticsrule",
    "channels_sync.change_logisticsrule",
    "channels_sync.add_carrier",
    "channels_sync.change_carrier",
]
for _group, _order_permissions in {
    CHANNEL_OPERATOR: [*_ORDER_VIEW, *_ORDER_WORK],
    WAREHOUSE_MANAGER: [*_ORDER_VIEW, "channels_sync.confirm_order"],
}.items():
    ROLES[_group] = [*ROLES[_group], *_order_permissions]
