"""Demo stock, received through the same services as the screens. Idempotent: each demo
document carries a reference (``DEMO-...``) and is only created when none with it exists.

Needs the demo users (wms.demo), warehouses with active bins (warehouses.demo) and goods
(inventory.demo_goods); when any is missing it says so and does nothing.
"""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from inventory.exceptions import StockError
from inventory.models import (
    Goods,
    InboundSheet,
    OutboundSheet,
    StockTransfer,
)
from inventory.services import stock as services
from warehouses.models import Bin, Warehouse

GOODS_PER_WAREHOUSE = 12


def _operator():
    users = get_user_model().objects
    return users.filter(username="staff").first() or users.filter(is_superuser=True).first()


def load() -> list[str]:
    user = _operator()
    goods = list(
        Goods.objects.filter(is_active=True, is_combo=False).order_by("sku")[:GOODS_PER_WAREHOUSE]
    )
    warehouses = list(Warehouse.objects.filter(is_active=True).order_by("priority", "code")[:2])
    if user is None or not goods or not warehouses:
        return ["demo stock: skipped (needs demo users, goods and warehouses first)"]
    received = shipped = moved = 0
    for warehouse in warehouses:
        bins = list(
            Bin.objects.filter(warehouse=warehouse, is_active=True)
            .select_related("zone")
            .order_by("zone__type", "code")
        )
        if len(bins) < 2:
            continue
        reference = f"DEMO-{warehouse.code}"
        if InboundSheet.objects.filter(reference=reference).exists():
            continue
        try:
            with transaction.atomic():
                received += _receive(warehouse, bins, goods, user, reference)
                shipped += _ship(warehouse, goods, user, reference)
                moved += _move(bins, goods, user)
        except StockError as error:
            return [f"demo stock: stopped at {warehouse.code}: {error}"]
    return [f"demo stock: {received} units received, {shipped} shipped, {moved} moved"]


def _receive(warehouse, bins, goods, user, reference) -> int:
    today = timezone.localdate()
    sheet = services.inbound_sheet_create(
        warehouse=warehouse,
        type=InboundSheet.Type.PURCHASE,
        user=user,
        reference=reference,
        note="Opening stock (demo)",
    )
    total = 0
    for index, item in enumerate(goods):
        batch = None
        if index % 3 == 0:
            # Every third goods is batch-managed; one batch is close to expiry.
            days = 20 if index == 0 else 200 + 30 * index
            batch = services.batch_for_line(
                goods=item,
                batch_no=f"DEMO-{today.year}-{index:02d}",
                production_date=today - datetime.timedelta(days=30),
                expiry_date=today + datetime.timedelta(days=days),
            )
        quantity = 20 + 15 * (index % 7)
        services.inbound_line_add(
            sheet=sheet, goods=item, bin=bins[index % len(bins)], quantity=quantity, batch=batch
        )
        total += quantity
    services.inbound_sheet_post(sheet_id=sheet.pk, user=user)
    return total


def _ship(warehouse, goods, user, reference) -> int:
    sheet = services.outbound_sheet_create(
        warehouse=warehouse,
        type=OutboundSheet.Type.ORDER_SHIPMENT,
        user=user,
        reference=f"{reference}-ORDER-1001",
    )
    for item in goods[:3]:
        services.outbound_line_add(sheet=sheet, goods=item, quantity=5)
    services.outbound_sheet_post(sheet_id=sheet.pk, user=user)
    return 15


def _move(bins, goods, user) -> int:
    item = goods[1] if len(goods) > 1 else goods[0]
    source = bins[1 % len(bins)]
    target = bins[-1]
    if source == target or StockTransfer.objects.filter(lines__goods=item).exists():
        return 0
    services.bin_transfer(
        goods=item, from_bin=source, to_bin=target, quantity=4, user=user, note="Demo replenish"
    )
    return 4
