import pytest

from channels_sync.models import BindingException, Order, ShopOrderSettings
from channels_sync.selectors import listing_sellable
from channels_sync.services.orders import orders_pull, short_orders_reroute
from channels_sync.services.routing import postcode_point, routing_context
from channels_sync.tests.order_helpers import order_world, reserved, source
from inventory.tests.factories import receive_stock

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

SYDNEY = ("Mia Chen", "12 George St", "Sydney", "NSW", "2000", "AU")
PERTH = ("Noah Lee", "1 Hay St", "Perth", "WA", "6000", "AU")
SHANGHAI = ("王芳", "中山路 1 号", "上海", "SH", "200001", "CN")


def test_postcode_table_longest_prefix():
    assert postcode_point("AU", "2600") == (-35.28, 149.13)  # Canberra, not Sydney
    assert postcode_point("AU", "2000") == (-33.87, 151.21)
    assert postcode_point("CN", "518000") == (22.54, 114.06)
    assert postcode_point("CN", "200001") == (31.23, 121.47)
    assert postcode_point("NZ", "1010") is None


def test_nearest_that_cannot_fill_the_whole_order_is_skipped(fake_shop_orders):
    shop, wh_syd, wh_mel, *_rest, goods = order_world(fake_shop_orders, sydney=1)
    fake_shop_orders.add_order([("A", 2), ("B", 1)], address=SYDNEY)
    orders_pull(shop.pk, source=source(shop))
    order = Order.objects.get()
    assert order.warehouse == wh_mel and not order.is_split and order.filled_complete
    assert reserved(goods["A"], wh_mel) == 2 and reserved(goods["B"], wh_mel) == 1
    assert reserved(goods["A"], wh_syd) == 0


def test_without_a_known_distance_binding_priority_decides(fake_shop_orders):
    shop, _syd, wh_mel, *_rest = order_world(fake_shop_orders)
    fake_shop_orders.add_order([("A", 1)], address=("X", "1 Road", "Auckland", "", "1010", "NZ"))
    orders_pull(shop.pk, source=source(shop))
    assert Order.objects.get().warehouse == wh_mel  # priority 1


def test_unbound_goods_routes_to_the_remaining_warehouse_and_routed_orders_keep_theirs(
    fake_shop_orders,
):
    shop, wh_syd, wh_mel, *_rest, goods = order_world(fake_shop_orders)
    fake_shop_orders.add_order([("A", 1)], address=SYDNEY)
    orders_pull(shop.pk, source=source(shop))
    BindingException.objects.create(shop=shop, warehouse=wh_syd, goods=goods["A"], mode="unbound")
    fake_shop_orders.add_order([("A", 1)], address=SYDNEY)
    orders_pull(shop.pk, source=source(shop))
    first, second = Order.objects.order_by("pk")
    assert first.warehouse == wh_syd and second.warehouse == wh_mel


def test_short_policy_reserves_nothing_then_reroutes_when_stock_arrives(fake_shop_orders):
    shop, wh_syd, _mel, bin_syd, _bin_mel, goods = order_world(fake_shop_orders, melbourne=0)
    fake_shop_orders.add_order([("A", 15)], address=SYDNEY)
    orders_pull(shop.pk, source=source(shop))
    order = Order.objects.get()
    assert order.status == Order.Status.SHORT and reserved(goods["A"]) == 0
    assert "enough stock" in order.message
    receive_stock(goods["A"], bin_syd, 5)
    assert short_orders_reroute() == 1
    order.refresh_from_db()
    assert order.status == Order.Status.RESERVED and order.warehouse == wh_syd
    assert order.was_short and not order.filled_complete  # counts against the fill rate
    assert reserved(goods["A"]) == 15


def test_the_minute_beat_reroutes_short_orders_once_stock_arrived(fake_shop_orders):
    from channels_sync.tasks import short_orders_reroute_task

    shop, _syd, _mel, bin_syd, _bin_mel, goods = order_world(fake_shop_orders, melbourne=0)
    fake_shop_orders.add_order([("A", 12)], address=SYDNEY)
    orders_pull(shop.pk, source=source(shop))
    assert short_orders_reroute_task.delay().get() == 0
    receive_stock(goods["A"], bin_syd, 2)
    assert short_orders_reroute_task.delay().get() == 1
    assert Order.objects.get().status == Order.Status.RESERVED


def test_split_policy_takes_each_goods_from_the_nearest_warehouses(fake_shop_orders):
    shop, wh_syd, wh_mel, *_rest, goods = order_world(fake_shop_orders, sydney=3, melbourne=3)
    ShopOrderSettings.objects.create(shop=shop, when_short="split")
    fake_shop_orders.add_order([("A", 5)], address=SYDNEY)
    fake_shop_orders.add_order([("B", 7)], address=SYDNEY)
    orders_pull(shop.pk, source=source(shop))
    split, short = Order.objects.order_by("pk")
    assert split.status == Order.Status.RESERVED and split.is_split
    assert split.warehouse == wh_syd and not split.filled_complete
    assert reserved(goods["A"], wh_syd) == 3 and reserved(goods["A"], wh_mel) == 2
    assert short.status == Order.Status.SHORT and reserved(goods["B"]) == 0


def test_the_stock_push_sees_the_reservation(fake_shop_orders):
    shop, *_rest, goods = order_world(fake_shop_orders)
    listing = shop.listings.get(sku="A")
    before = listing_sellable(shop, [listing])[listing.pk].quantity
    fake_shop_orders.add_order([("A", 4)], address=SYDNEY)
    orders_pull(shop.pk, source=source(shop))
    assert listing_sellable(shop, [listing])[listing.pk].quantity == before - 4
    assert shop.outbox.filter(goods=goods["A"], status="pending").exists()


def test_unmatched_line_makes_the_order_short_with_a_clear_message(fake_shop_orders):
    shop, *_rest = order_world(fake_shop_orders)
    fake_shop_orders.add_variant("NOT-IN-WMS")
    fake_shop_orders.add_order([("A", 1), ("NOT-IN-WMS", 1)], address=SYDNEY)
    orders_pull(shop.pk, source=source(shop))
    order = Order.objects.get()
    assert order.status == Order.Status.SHORT and "NOT-IN-WMS" in order.message


def test_routing_a_batch_takes_the_same_queries_whatever_its_orders_and_lines(fake_shop_orders):
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from channels_sync.models import OrderLine
    from channels_sync.services.routing import orders_route

    # given: orders stored but not routed yet (a short policy with no stock: all SHORT)
    shop, *_rest = order_world(fake_shop_orders, skus=("A", "B", "C", "D"), sydney=0, melbourne=0)
    fake_shop_orders.add_order([("A", 1)], address=SYDNEY)
    fake_shop_orders.add_order([("A", 1), ("B", 1), ("C", 2), ("D", 1)], address=PERTH)
    fake_shop_orders.add_order([("B", 1), ("C", 1)], address=SHANGHAI)
    fake_shop_orders.add_order([("D", 3)], address=PERTH)
    orders_pull(shop.pk, source=source(shop))
    _syd, _mel, bin_syd, bin_mel, goods = _rest
    for g in goods.values():
        receive_stock(g, bin_syd, 10)
        receive_stock(g, bin_mel, 10)
    context = routing_context(shop)
    one, *three = Order.objects.order_by("pk")

    def lines_of(orders):
        return {o.pk: list(OrderLine.objects.filter(order=o)) for o in orders}

    def routing_queries(captured) -> int:
        # the API's webhook snapshot refreshes on its own clock inside the ledger's hook
        return sum(1 for q in captured.captured_queries if '"api_' not in q["sql"])

    # when: a batch of one 1-line order, then a batch of three orders of 1 to 4 lines
    single = lines_of([one])
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        orders_route(orders=[one], lines=single, context=context)
    batch = lines_of(three)
    with CaptureQueriesContext(connection) as again, transaction.atomic():
        result = orders_route(orders=three, lines=batch, context=context)

    # then
    assert set(result.statuses.values()) == {"reserved"}
    assert Order.objects.filter(status="reserved").count() == 4
    assert routing_queries(captured) == routing_queries(again)
    # begin, combos, the posting's lock, balances and movements, the ledger's hooks, the
    # routing write (allocations, orders, history), commit
    assert routing_queries(captured) <= 9


def test_a_short_order_whose_listing_gets_linked_is_routed_on_the_next_reroute(fake_shop_orders):
    from channels_sync.services.products import listing_link
    from channels_sync.tests.factories import ListingFactory
    from inventory.tests.factories import GoodsFactory

    # given: an order line whose listing is synced but not linked to goods yet: SHORT
    shop, wh_syd, _mel, bin_syd, _bin_mel, goods = order_world(fake_shop_orders)
    variant = fake_shop_orders.add_variant("C-NEW")
    listing = ListingFactory(
        shop=shop, goods=None, sku="C-NEW", variant_ref=variant.id, item_ref=variant.item_id
    )
    c_new = GoodsFactory(sku="C-NEW-GOODS", weight="2")
    receive_stock(c_new, bin_syd, 5)
    fake_shop_orders.add_order([("A", 1), ("C-NEW", 2)], address=SYDNEY)
    orders_pull(shop.pk, source=source(shop))
    order = Order.objects.get()
    assert order.status == Order.Status.SHORT and "C-NEW" in order.message

    # when: the operator links the listing, as the message says, and the beat re-routes
    listing_link(listing=listing, goods=c_new, user=None)
    short_orders_reroute()

    # then: the order is reserved, the C-NEW line now names its goods, its weight counts
    order.refresh_from_db()
    assert order.status == Order.Status.RESERVED and order.warehouse == wh_syd
    assert reserved(c_new) == 2 and reserved(goods["A"]) == 1
    assert order.lines.get(sku="C-NEW").goods == c_new
    assert str(order.weight) == "4.500"
