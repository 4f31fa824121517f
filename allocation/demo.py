"""Demo store allocation: six stores (the demo user ``store`` runs two of them, ``store2`` and
``store3`` the others), two policies, a year of daily sales for the stocked goods, and one open
first-come window on the first warehouse so a new user can grab at once. Made through the same
services as the screens. Idempotent: stores by code, policies and windows by name, sales rows
by their unique (store, goods, day)."""

from __future__ import annotations

import datetime
import random

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Sum
from django.utils import timezone

from allocation.models import GrabWindow, Policy, Store, StoreManager, StoreSales
from allocation.services import windows
from inventory.exceptions import StockError
from inventory.models import Goods, StockBalance
from warehouses.models import Warehouse
from wms import roles
from wms.demo import DEMO_PASSWORD

STORES = [
    ("S001", "Sydney CBD", "store", "nsw", "188 George St, Sydney NSW 2000", -33.8636, 151.2080),
    (
        "S002",
        "Parramatta",
        "store",
        "nsw",
        "159 Church St, Parramatta NSW 2150",
        -33.8150,
        151.0030,
    ),
    (
        "S003",
        "Melbourne Central",
        "store2",
        "vic",
        "211 La Trobe St, Melbourne VIC 3000",
        -37.8102,
        144.9628,
    ),
    (
        "S004",
        "Chadstone",
        "store2",
        "vic",
        "1341 Dandenong Rd, Chadstone VIC 3148",
        -37.8862,
        145.0830,
    ),
    (
        "S005",
        "Brisbane Queen St",
        "store3",
        "qld",
        "171 Queen St, Brisbane QLD 4000",
        -27.4698,
        153.0251,
    ),
    ("S006", "Perth Hay St", "store3", "wa", "200 Hay St, Perth WA 6000", -31.9535, 115.8570),
]
WINDOW_NAME = "Demo: weekly replenishment"
SALES_DAYS = 365
SALES_GOODS = 8


def _managers() -> dict[str, object]:
    users = get_user_model().objects
    group = Group.objects.get(name=roles.STORE_MANAGER)
    out = {}
    for username in ("store", "store2", "store3"):
        user, created = users.get_or_create(
            username=username, defaults={"email": f"{username}@example.com"}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        user.groups.add(group)
        out[username] = user
    return out


def load() -> list[str]:
    managers = _managers()
    made_stores = 0
    for rank, (code, name, manager, group, address, lat, lng) in enumerate(STORES, 1):
        store, created = Store.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "group": group,
                "address": address,
                "latitude": lat,
                "longitude": lng,
                "opening_hours": "Mon-Sun 09:00-21:00",
                "fixed_rank": rank,
                "contact_name": manager,
            },
        )
        made_stores += created
        StoreManager.objects.get_or_create(store=store, user=managers[manager])
    weekly, _ = Policy.objects.get_or_create(
        name="Weekly by sales volume",
        defaults={
            "priority": Policy.Priority.SALES_VOLUME,
            "share": Policy.Share.STRICT_PRIORITY,
            "cycle": Policy.Cycle.WEEKLY,
            "weekdays": "0",
            "lookback_days": 28,
            "cap_per_goods": 60,
        },
    )
    Policy.objects.get_or_create(
        name="Fewest days of cover, pro-rata",
        defaults={
            "priority": Policy.Priority.DAYS_OF_COVER,
            "share": Policy.Share.PRO_RATA,
            "cycle": Policy.Cycle.ON_DEMAND,
            "lookback_days": 14,
            "max_days_of_cover": 30,
        },
    )
    warehouse = Warehouse.objects.filter(is_active=True).order_by("priority", "code").first()
    stocked = []
    if warehouse is not None:
        stocked = list(
            StockBalance.objects.filter(
                warehouse=warehouse, goods__is_active=True, goods__is_combo=False
            )
            .values("goods_id")
            .annotate(units=Sum("on_hand") - Sum("frozen") - Sum("reserved"))
            .filter(units__gt=0)
            .order_by("goods_id")[:SALES_GOODS]
        )
    goods = list(Goods.objects.filter(pk__in=[row["goods_id"] for row in stocked]).order_by("pk"))
    sales = _sales(goods)
    window_line = _window(warehouse, weekly, stocked, managers["store"])
    return [f"stores created: {made_stores}", f"sales rows created: {sales}", window_line]


def _sales(goods: list[Goods]) -> int:
    stores = list(Store.objects.filter(code__in=[s[0] for s in STORES]).order_by("code"))
    today = timezone.localdate()
    rng = random.Random(2026)
    rows = []
    for index, store in enumerate(stores):
        size = 1.0 + index * 0.6
        for g in goods:
            base = rng.uniform(1, 6) * size
            stock = int(base * rng.uniform(3, 25))
            for back in range(SALES_DAYS, 0, -1):
                day = today - datetime.timedelta(days=back)
                weekend = 1.4 if day.weekday() >= 5 else 1.0
                sold = max(0, int(rng.gauss(base * weekend, base / 3)))
                stock = max(0, stock - sold) if stock > sold else int(base * rng.uniform(8, 20))
                rows.append(
                    StoreSales(store=store, goods=g, day=day, units_sold=sold, on_hand=stock)
                )
    before = StoreSales.objects.count()
    StoreSales.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True)
    return StoreSales.objects.count() - before


def _window(warehouse, policy, stocked, operator) -> str:
    live = GrabWindow.objects.filter(
        name=WINDOW_NAME, status__in=[GrabWindow.Status.OPEN, GrabWindow.Status.SCHEDULED]
    ).first()
    if live is not None:
        return f"open window: {live.ref} (kept)"
    if warehouse is None or not stocked:
        return "open window: none (no stock to offer)"
    goods = Goods.objects.in_bulk([row["goods_id"] for row in stocked[:3]])
    offers = [
        windows.Offer(goods[row["goods_id"]], min(100, max(1, row["units"] // 2)))
        for row in stocked[:3]
    ]
    manager = get_user_model().objects.filter(username="manager").first() or operator
    now = timezone.now()
    try:
        window = windows.window_create(
            name=WINDOW_NAME,
            warehouse=warehouse,
            policy=policy,
            mode=GrabWindow.Mode.FIRST_COME,
            opens_at=now - datetime.timedelta(minutes=1),
            closes_at=now + datetime.timedelta(days=7),
            scope=GrabWindow.Scope.ALL,
            offers=offers,
            user=manager,
        )
    except StockError as error:
        return f"open window: none ({error})"
    return f"open window: {window.ref}"
