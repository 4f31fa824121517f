"""Sellable quantity of combo listings: counted in combos per warehouse, the combo's own (or its
listing's) binding exception applied to that count, the components' exceptions to their units,
nested combos expanded to the goods that hold the stock."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from channels_sync.models import BindingException
from channels_sync.selectors import listing_sellable, listings_for_goods
from channels_sync.tests.factories import BindingFactory, ListingFactory, ShopFactory
from inventory.tests.factories import ComboComponentFactory, GoodsFactory, receive_stock
from warehouses.tests.factories import BinFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _two_warehouses(**shop_fields):
    shop = ShopFactory(**shop_fields)
    bin_a, bin_b = BinFactory(), BinFactory()
    BindingFactory(shop=shop, warehouse=bin_a.warehouse, priority=1)
    BindingFactory(shop=shop, warehouse=bin_b.warehouse, priority=2)
    return shop, bin_a, bin_b


def _rule(shop, bin_, *, goods=None, listing=None, allotment=None):
    return BindingException.objects.create(
        shop=shop,
        warehouse=bin_.warehouse,
        goods=goods,
        listing=listing,
        mode="allotment" if allotment is not None else "unbound",
        allotment=allotment,
    )


def _sellable(shop, listing):
    return listing_sellable(shop, [listing])[listing.pk]


def test_a_combo_goods_unbound_from_a_warehouse_sells_only_the_others():
    # given: a combo of 1 part, 10 parts in each of two bound warehouses
    shop, bin_a, bin_b = _two_warehouses()
    part = ComboComponentFactory(quantity=1)
    receive_stock(part.component, bin_a, 10)
    receive_stock(part.component, bin_b, 10)
    listing = ListingFactory(shop=shop, goods=part.combo)
    # when: the combo goods (not its part) is unbound from A for this shop
    _rule(shop, bin_a, goods=part.combo)
    # then: B's 10 only
    assert _sellable(shop, listing).quantity == 10


def test_a_combo_goods_allotment_caps_its_count_in_combos():
    # given: 4 parts per case, 100 parts in A (25 cases)
    shop, bin_a, _bin_b = _two_warehouses()
    part = ComboComponentFactory(quantity=4)
    receive_stock(part.component, bin_a, 100)
    listing = ListingFactory(shop=shop, goods=part.combo)
    # when: the case goods is allotted 5 in A
    _rule(shop, bin_a, goods=part.combo, allotment=5)
    # then: 5 cases
    assert _sellable(shop, listing).quantity == 5


def test_a_listing_allotment_on_a_combo_counts_combos_and_is_recorded():
    # given: 4 parts per case, 100 parts in A (25 cases); share 80%, safety stock 1
    shop, bin_a, _bin_b = _two_warehouses(share_percent=80, safety_stock=1)
    part = ComboComponentFactory(quantity=4)
    receive_stock(part.component, bin_a, 100)
    listing = ListingFactory(shop=shop, goods=part.combo)
    # when: the listing is allotted 5 in A
    _rule(shop, bin_a, listing=listing, allotment=5)
    result = _sellable(shop, listing)
    # then: 5 cases, x 80% = 4, - 1 = 3 (not 5 parts // 4 = 1 case)
    assert result.quantity == 3
    # and the record says why: the parts in A, the case count there and the rule that capped it
    assert result.inputs["available_total"] == 5
    (component,) = result.inputs["components"]
    assert (component["goods_id"], component["per_combo"]) == (part.component_id, 4)
    assert [(w["available"], w["combos"]) for w in component["warehouses"]] == [(100, 25), (0, 0)]
    first, second = result.inputs["combo_warehouses"]
    assert (first["combos"], first["rule"], first["rule_of"], first["counted"]) == (
        25,
        "allotment:5",
        "listing",
        5,
    )
    assert (second["combos"], second["rule"], second["counted"]) == (0, "bound", 0)


def test_a_combo_ships_from_one_warehouse_so_parts_in_two_do_not_add_up():
    # given: 4 parts per case, 3 parts in A and 1 in B; a gift box of a mug and a spoon,
    # the mugs in A and the spoons in B
    shop, bin_a, bin_b = _two_warehouses()
    case_line = ComboComponentFactory(quantity=4)
    receive_stock(case_line.component, bin_a, 3)
    receive_stock(case_line.component, bin_b, 1)
    mug_line = ComboComponentFactory(quantity=1)
    spoon_line = ComboComponentFactory(combo=mug_line.combo, quantity=1)
    receive_stock(mug_line.component, bin_a, 6)
    receive_stock(spoon_line.component, bin_b, 6)
    case = ListingFactory(shop=shop, goods=case_line.combo)
    box = ListingFactory(shop=shop, goods=mug_line.combo)
    # when
    result = listing_sellable(shop, [case, box])
    # then: no warehouse can make a case or a box
    assert (result[case.pk].quantity, result[box.pk].quantity) == (0, 0)


def test_a_component_unbound_from_a_warehouse_leaves_the_combo_nothing_there():
    # given: a box of 1 mug and 1 spoon; A: 5 mugs and 5 spoons; B: 3 spoons, no mugs
    shop, bin_a, bin_b = _two_warehouses()
    mug_line = ComboComponentFactory(quantity=1)
    spoon_line = ComboComponentFactory(combo=mug_line.combo, quantity=1)
    receive_stock(mug_line.component, bin_a, 5)
    receive_stock(spoon_line.component, bin_a, 5)
    receive_stock(spoon_line.component, bin_b, 3)
    listing = ListingFactory(shop=shop, goods=mug_line.combo)
    assert _sellable(shop, listing).quantity == 5
    # when: the spoon goods is unbound from A for this shop
    _rule(shop, bin_a, goods=spoon_line.component)
    # then: A cannot make a box for this shop, B has no mugs (was min(5 mugs, 3 spoons) = 3)
    result = _sellable(shop, listing)
    assert result.quantity == 0
    spoon = next(c for c in result.inputs["components"] if c["goods_id"] == spoon_line.component_id)
    assert [(w["rule"], w["counted"]) for w in spoon["warehouses"]] == [
        ("unbound", 0),
        ("bound", 3),
    ]


def test_a_component_allotment_caps_its_units_in_the_combo():
    # given: 2 parts per combo, 20 parts in A; the part is allotted 7 in A
    shop, bin_a, _bin_b = _two_warehouses()
    line = ComboComponentFactory(quantity=2)
    receive_stock(line.component, bin_a, 20)
    listing = ListingFactory(shop=shop, goods=line.combo)
    _rule(shop, bin_a, goods=line.component, allotment=7)
    # then: 7 // 2 = 3 combos
    assert _sellable(shop, listing).quantity == 3


def test_nested_combos_count_the_cans_inside():
    # given: a case of 4 dozens, a dozen of 12 cans: 48 cans per case; 100 cans in A
    shop, bin_a, bin_b = _two_warehouses()
    dozen_line = ComboComponentFactory(quantity=12)
    case_line = ComboComponentFactory(component=dozen_line.combo, quantity=4)
    receive_stock(dozen_line.component, bin_a, 100)
    case = ListingFactory(shop=shop, goods=case_line.combo)
    dozen = ListingFactory(shop=shop, goods=dozen_line.combo)
    # when
    result = listing_sellable(shop, [case, dozen])
    # then: 100 // 48 = 2 cases, 100 // 12 = 8 dozens
    assert (result[case.pk].quantity, result[dozen.pk].quantity) == (2, 8)
    (cans,) = [c for c in result[case.pk].inputs["components"] if c["goods_id"] != dozen.goods_id]
    assert (cans["goods_id"], cans["per_combo"]) == (dozen_line.component_id, 48)


def test_a_goods_inside_a_combo_twice_counts_both_ways():
    # given: a case of 4 dozens (12 cans each) and 2 loose cans: 50 cans per case
    shop, bin_a, _bin_b = _two_warehouses()
    dozen_line = ComboComponentFactory(quantity=12)
    case_line = ComboComponentFactory(component=dozen_line.combo, quantity=4)
    ComboComponentFactory(combo=case_line.combo, component=dozen_line.component, quantity=2)
    receive_stock(dozen_line.component, bin_a, 99)
    case = ListingFactory(shop=shop, goods=case_line.combo)
    # then: 99 // 50 = 1
    assert _sellable(shop, case).quantity == 1


def test_an_inner_combo_unbound_or_allotted_limits_the_outer_combo():
    # given: a case of 4 dozens of 12 cans; 480 cans in A (10 cases), 48 in B (1 case)
    shop, bin_a, bin_b = _two_warehouses()
    dozen_line = ComboComponentFactory(quantity=12)
    case_line = ComboComponentFactory(component=dozen_line.combo, quantity=4)
    receive_stock(dozen_line.component, bin_a, 480)
    receive_stock(dozen_line.component, bin_b, 48)
    case = ListingFactory(shop=shop, goods=case_line.combo)
    assert _sellable(shop, case).quantity == 11
    # when: the dozen is allotted 9 in A (2 cases) and unbound from B
    _rule(shop, bin_a, goods=dozen_line.combo, allotment=9)
    _rule(shop, bin_b, goods=dozen_line.combo)
    # then
    result = _sellable(shop, case)
    assert result.quantity == 2
    inner = next(c for c in result.inputs["components"] if c["is_combo"])
    assert (inner["goods_id"], inner["per_combo"]) == (dozen_line.combo_id, 4)
    assert [(w["rule"], w["combos"]) for w in inner["warehouses"]] == [
        ("allotment:9", 2),
        ("unbound", 0),
    ]


def test_queries_do_not_grow_with_the_number_of_combo_listings():
    # given: nested combos with exceptions at every level
    shop, bin_a, bin_b = _two_warehouses()

    def listings(count):
        made = []
        for _ in range(count):
            dozen_line = ComboComponentFactory(quantity=12)
            case_line = ComboComponentFactory(component=dozen_line.combo, quantity=4)
            ComboComponentFactory(combo=case_line.combo, quantity=1)
            receive_stock(dozen_line.component, bin_a, 100)
            listing = ListingFactory(shop=shop, goods=case_line.combo)
            _rule(shop, bin_b, goods=case_line.combo)
            _rule(shop, bin_a, listing=listing, allotment=1)
            made.append(listing)
            made.append(ListingFactory(shop=shop, goods=GoodsFactory()))
        return made

    one, fifty = listings(1), listings(50)
    # when
    with CaptureQueriesContext(connection) as few:
        listing_sellable(shop, one)
    with CaptureQueriesContext(connection) as many:
        result = listing_sellable(shop, fifty)
    # then
    assert len(many) == len(few) <= 4
    assert len(result) == 100


def test_listings_for_goods_finds_combos_containing_it_at_any_depth():
    # given: cans in dozens, dozens in cases; listings of each and of an unrelated goods
    shop = ShopFactory()
    dozen_line = ComboComponentFactory(quantity=12)
    case_line = ComboComponentFactory(component=dozen_line.combo, quantity=4)
    can = dozen_line.component
    wanted = [
        ListingFactory(shop=shop, goods=goods) for goods in (can, dozen_line.combo, case_line.combo)
    ]
    ListingFactory(shop=shop, goods=GoodsFactory())
    # when / then: the can's stock moves all three
    assert listings_for_goods(shop, [can.pk]) == wanted


def test_the_sync_log_says_why_a_combo_showed_its_quantity(client, django_user_model):
    from django.contrib.auth.models import Group
    from django.urls import reverse

    from channels_sync.models import SyncRecord
    from wms import roles

    # given: a case of 4 parts, 100 parts in A, the case allotted 5 there; pushed and recorded
    shop, bin_a, _bin_b = _two_warehouses()
    part = ComboComponentFactory(quantity=4, component=GoodsFactory(sku="PART-4"))
    receive_stock(part.component, bin_a, 100)
    listing = ListingFactory(shop=shop, goods=part.combo)
    _rule(shop, bin_a, goods=part.combo, allotment=5)
    sellable = _sellable(shop, listing)
    SyncRecord.objects.create(
        shop=shop,
        listing=listing,
        goods=listing.goods,
        quantity=sellable.quantity,
        inputs=sellable.inputs,
        trigger="auto",
        status="success",
    )
    user = django_user_model.objects.create_user("log-reader")
    user.groups.add(Group.objects.get(name=roles.CHANNEL_OPERATOR))
    client.force_login(user)
    # when
    html = client.get(reverse("channels_sync:sync-log")).content.decode()
    # then: the component by its SKU, and the combos per warehouse with the case's own rule
    code = bin_a.warehouse.code
    assert "[PART-4 ×4: " in html
    assert f"{code}: 25 combos (allotment:5) → 5" in html
