"""Cross-domain race (issue 12, extending the grab-window stress test of issue 10): on parallel
connections, two shops' order pulls reserve stock page by page (one ledger posting per page),
webhooks upsert single orders, a first-come grab window is opened and store managers grab from
it, and a clerk posts outbound shipments, all on the same goods in the same warehouse.

Checks: nothing oversold (the laws hold on every balance, every unit reserved or shipped was
received), every order is either reserved with allocations equal to what it ordered or short
with none, the orders' allocations equal the ledger's order postings, every thread ended with
a result or a domain refusal (no deadlock, no crash), and ``wms_reconcile`` finds no drift."""

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connections
from django.db.models import Sum
from django.utils import timezone

from allocation.services import grabs
from allocation.services import windows as window_services
from allocation.tests.factories import PolicyFactory, StoreFactory
from channels_sync.adapters.orders import order_source_for
from channels_sync.adapters.shopify_orders import parse_webhook_order
from channels_sync.fakes import FakeServer
from channels_sync.fakes.shopify_orders import FakeShopifyOrders
from channels_sync.models import Order, OrderAllocation
from channels_sync.services.order_pages import order_upsert
from channels_sync.services.orders import orders_pull
from channels_sync.tests.conftest import no_sleep
from channels_sync.tests.factories import BindingFactory, ListingFactory, ShopFactory
from inventory.exceptions import InsufficientStock, StockError
from inventory.models import OutboundSheet, StockBalance, StockMovement
from inventory.services import stock as stock_services
from inventory.tests.factories import GoodsFactory, receive_stock
from warehouses.tests.factories import BinFactory

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

RECEIVED = 200
ORDERS_PER_SHOP = 60
MANAGERS = 12
CLERK_SHIPMENTS = 6
WEBHOOKS = 10
ADDRESS = ("Mia Chen", "12 George St", "Sydney", "NSW", "2000", "AU")


def _webhook_body(number: int, variant_number: int, quantity: int) -> dict:
    return {
        "id": 900000 + number,
        "admin_graphql_api_id": f"gid://shopify/Order/{900000 + number}",
        "name": f"#W{number}",
        "email": "jon@example.com",
        "created_at": "2026-11-29T09:59:00Z",
        "updated_at": "2026-11-29T10:00:00Z",
        "total_price": "20.00",
        "currency": "AUD",
        "shipping_address": {"zip": "2000", "country_code": "AU", "city": "Sydney"},
        "line_items": [
            {
                "id": 400000 + number,
                "variant_id": variant_number,
                "sku": "RACE",
                "title": "RACE",
                "quantity": quantity,
                "price": "10.00",
            }
        ],
    }


def test_pulls_grabs_and_a_clerk_racing_for_one_goods_never_oversell(make_user, capsys):
    # given: one goods in one warehouse, bound to two shops, each with its own fake and orders
    bin = BinFactory()
    goods = GoodsFactory(sku="RACE", weight=Decimal("0.2"))
    receive_stock(goods, bin, RECEIVED)
    rng = random.Random(12)
    fakes, shops = [], []
    for _shop in range(2):
        fake = FakeShopifyOrders(restore_rate=1_000_000.0)
        variant = fake.add_variant("RACE")
        for _ in range(ORDERS_PER_SHOP):
            fake.add_order([("RACE", rng.randint(1, 3))], address=ADDRESS)
        fakes.append((fake, variant))
    manager = make_user("manager")
    clerk = make_user("manager", "clerk")
    policy = PolicyFactory(cap_per_goods=5)
    people = []
    for i in range(MANAGERS):
        user = make_user("store", f"race{i}")
        store = StoreFactory(code=f"RC{i:02d}")
        store.managers.add(user)
        people.append((user, store))
    failures: list[str] = []
    refusals: list[str] = []
    start = threading.Barrier(2 + 1 + MANAGERS + CLERK_SHIPMENTS + WEBHOOKS)
    window_ready = threading.Event()
    window_box: dict = {}

    with FakeServer(fakes[0][0]) as first, FakeServer(fakes[1][0]) as second:
        for (_fake, variant), server in zip(fakes, (first, second), strict=True):
            shop = ShopFactory(api_base_url=server.url, is_order_pull_enabled=True)
            BindingFactory(shop=shop, warehouse=bin.warehouse, priority=1)
            ListingFactory(
                shop=shop,
                goods=goods,
                sku="RACE",
                variant_ref=variant.id,
                item_ref=variant.item_id,
            )
            shops.append(shop)

        def guarded(fn):
            def run(*args):
                try:
                    start.wait(30)
                    fn(*args)
                except (StockError, grabs.NotAllowed) as exc:
                    refusals.append(f"{type(exc).__name__}: {exc}")
                except Exception as exc:  # noqa: BLE001 - every other error is a failure
                    failures.append(f"{fn.__name__}: {type(exc).__name__}: {exc}")
                finally:
                    connections.close_all()

            return run

        @guarded
        def pull(index: int) -> None:
            shop = shops[index]
            result = orders_pull(shop.pk, source=order_source_for(shop, sleep=no_sleep))
            if result is None or result.failed:
                failures.append(f"pull {index}: {result and result.message}")

        @guarded
        def open_window() -> None:
            now = timezone.now()
            try:
                window_box["window"] = window_services.window_create(
                    name="race",
                    warehouse=bin.warehouse,
                    policy=policy,
                    mode="first_come",
                    opens_at=now,
                    closes_at=now + timezone.timedelta(minutes=10),
                    scope="all",
                    offers=[window_services.Offer(goods, 30)],
                    user=manager,
                )
            finally:
                window_ready.set()

        @guarded
        def grab(index: int) -> None:
            window_ready.wait(30)
            if "window" not in window_box:
                return
            user, store = people[index]
            grabs.grab_request_submit(
                user=user,
                store=store,
                window=window_box["window"],
                goods_id=goods.pk,
                quantity=rng.randint(1, 5),
            )

        @guarded
        def ship(index: int) -> None:
            sheet = stock_services.outbound_sheet_create(
                warehouse=bin.warehouse, type=OutboundSheet.Type.ORDER_SHIPMENT, user=clerk
            )
            stock_services.outbound_line_add(sheet=sheet, goods=goods, quantity=7)
            stock_services.outbound_sheet_post(sheet_id=sheet.pk, user=clerk)

        @guarded
        def webhook(index: int) -> None:
            fake, variant = fakes[index % 2]
            body = _webhook_body(index, variant.number, 1 + index % 3)
            order_upsert(shop=shops[index % 2], incoming=parse_webhook_order(body))

        jobs = [(pull, 0), (pull, 1), (open_window,)]
        jobs += [(grab, i) for i in range(MANAGERS)]
        jobs += [(ship, i) for i in range(CLERK_SHIPMENTS)]
        jobs += [(webhook, i) for i in range(WEBHOOKS)]

        # when
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            list(pool.map(lambda job: job[0](*job[1:]), jobs))

    # then: no crash, no deadlock; only stock refusals
    assert failures == []
    assert all("InsufficientStock" in r or "NotAllowed" in r for r in refusals), refusals
    balance = StockBalance.objects.get(goods=goods, bin=bin)
    assert 0 <= balance.reserved <= balance.on_hand
    shipped = -sum(
        StockMovement.objects.filter(balance=balance, on_hand_delta__lt=0).values_list(
            "on_hand_delta", flat=True
        )
    )
    assert balance.on_hand + shipped == RECEIVED
    assert balance.reserved + shipped <= RECEIVED

    orders = list(Order.objects.prefetch_related("lines", "allocations"))
    assert len(orders) == 2 * ORDERS_PER_SHOP + WEBHOOKS
    for order in orders:
        held = sum(a.quantity for a in order.allocations.all())
        wanted = sum(li.quantity for li in order.lines.all())
        if order.status == Order.Status.RESERVED:
            assert held == wanted, order
        else:
            assert order.status == Order.Status.SHORT and held == 0, order
    posted = StockMovement.objects.filter(document_type="shop_order").aggregate(
        n=Sum("reserved_delta")
    )["n"]
    assert posted == OrderAllocation.objects.aggregate(n=Sum("quantity"))["n"]
    assert any(o.status == Order.Status.RESERVED for o in orders)
    call_command("wms_reconcile")
    assert "0 drift" in capsys.readouterr().out


def test_an_order_page_and_a_clerk_take_the_last_units_without_overselling():
    """The page plans on the quantities it read under the lock: when a shipment takes the
    stock first, the page's orders become short instead of failing or overselling."""
    bin = BinFactory()
    goods = GoodsFactory(sku="LAST")
    receive_stock(goods, bin, 5)
    fake = FakeShopifyOrders(restore_rate=1_000_000.0)
    variant = fake.add_variant("LAST")
    for _ in range(4):
        fake.add_order([("LAST", 2)], address=ADDRESS)
    with FakeServer(fake) as server:
        shop = ShopFactory(api_base_url=server.url, is_order_pull_enabled=True)
        BindingFactory(shop=shop, warehouse=bin.warehouse, priority=1)
        ListingFactory(
            shop=shop, goods=goods, sku="LAST", variant_ref=variant.id, item_ref=variant.item_id
        )
        from inventory import ledger

        ledger.issue(
            kind="out_other",
            warehouse_id=bin.warehouse_id,
            lines=[ledger.Pick(goods.pk, 4)],
            document=ledger.Document(type="other", ref="clerk"),
        )
        with pytest.raises(InsufficientStock):
            ledger.issue(
                kind="out_other",
                warehouse_id=bin.warehouse_id,
                lines=[ledger.Pick(goods.pk, 2)],
                document=ledger.Document(type="other", ref="clerk"),
            )
        pull = orders_pull(shop.pk, source=order_source_for(shop, sleep=no_sleep))
    assert pull.status == "done" and pull.new == 4
    assert Order.objects.filter(status=Order.Status.SHORT).count() == 4
    assert StockBalance.objects.get(goods=goods).reserved == 0
