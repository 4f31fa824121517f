"""What stock protects elsewhere: bins holding stock stay active, goods with stock stay in the
catalogue, the bin lookup shows what each bin holds, and the ledger's admin is read-only."""

import threading

import pytest
from django.db import connections
from django.db.models import ProtectedError
from django.urls import reverse

from inventory import hooks, ledger
from inventory.models import StockBalance, StockMovement
from inventory.tests.factories import BatchFactory, GoodsFactory, receive_stock
from warehouses import hooks as warehouse_hooks
from warehouses import services as warehouse_services
from warehouses.exceptions import BinsGuarded
from warehouses.tests.factories import BinFactory

pytestmark = pytest.mark.django_db


def test_a_bin_holding_stock_cannot_be_deactivated():
    # given
    bin_a = BinFactory(code="HOLD-1")
    balance = receive_stock(GoodsFactory(), bin_a, 12)

    # when / then
    with pytest.raises(BinsGuarded) as refused:
        warehouse_services.bin_deactivate(bin=bin_a)
    assert "HOLD-1 still holds 12 units" in refused.value.refusals[bin_a.pk]
    bin_a.refresh_from_db()
    assert bin_a.is_active

    # when: the stock is moved out, the bin may go
    ledger.issue(
        kind="out_other",
        warehouse_id=bin_a.warehouse_id,
        lines=[ledger.Pick(balance.goods_id, 12, balance_id=balance.pk)],
        document=ledger.Document("other"),
    )
    warehouse_services.bin_deactivate(bin=bin_a)
    bin_a.refresh_from_db()
    assert not bin_a.is_active


def test_the_bin_lookup_shows_what_each_bin_holds(make_user):
    # given
    manager = make_user("manager")
    bin_a = BinFactory()
    tea = GoodsFactory(sku="TEA-9", name="Tea")
    balance = receive_stock(tea, bin_a, 8, batch=BatchFactory(goods=tea, batch_no="L7"))
    ledger.freeze(holds=[ledger.Hold(balance.pk, 3)], document=ledger.Document("other"))
    empty = BinFactory()

    # when
    contents = warehouse_hooks.bin_contents([bin_a.pk, empty.pk], user=manager)

    # then: frozen units in blue, linked to the freezes holding them (reason, time and
    # operator load from there)
    [(label, value)] = contents.pop(bin_a.pk)
    assert contents == {}
    assert label == "TEA-9 Tea (L7)"
    holds_url = hooks.frozen_links([balance.pk], user=manager)[balance.pk]
    assert value == (
        f'8 <a class="frozen" href="{holds_url}">(frozen 3)</a>'
        f'<span hx-get="{holds_url}" hx-trigger="revealed" hx-swap="outerHTML"></span>'
    ).replace("&", "&amp;")


def test_bin_contents_cost_one_query_for_a_whole_page(django_assert_num_queries):
    # given
    bins = [BinFactory() for _ in range(5)]
    for b in bins:
        receive_stock(GoodsFactory(), b, 1)

    # when / then
    from inventory.selectors.stock import bin_stock_contents

    with django_assert_num_queries(1):
        assert len(bin_stock_contents([b.pk for b in bins], user=None)) == 5


def test_goods_with_stock_cannot_be_deleted():
    # given
    goods = GoodsFactory()
    receive_stock(goods, BinFactory(), 1)

    # when / then
    with pytest.raises(ProtectedError):
        goods.delete()
    assert StockBalance.objects.filter(goods=goods).exists()


# --- admin ----------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["stockbalance", "stockmovement"])
def test_the_ledger_admin_is_read_only(client, make_user, model):
    # given
    admin_user = make_user("admin")
    client.force_login(admin_user)
    receive_stock(GoodsFactory(), BinFactory(), 2)
    obj = (StockBalance if model == "stockbalance" else StockMovement).objects.first()

    # when
    changelist = client.get(reverse(f"admin:inventory_{model}_changelist"))
    add = client.get(reverse(f"admin:inventory_{model}_add"))
    change = client.post(reverse(f"admin:inventory_{model}_change", args=[obj.pk]), {})
    delete = client.post(reverse(f"admin:inventory_{model}_delete", args=[obj.pk]), {"post": "yes"})

    # then
    assert changelist.status_code == 200
    assert add.status_code == 403
    assert change.status_code == 403
    assert delete.status_code == 403
    assert type(obj).objects.filter(pk=obj.pk).exists()


def test_admin_action_posts_draft_sheets_through_the_service(client, make_user):
    # given
    from inventory.services import stock as services

    manager = make_user("admin")
    client.force_login(manager)
    bin_a = BinFactory()
    goods = GoodsFactory()
    sheet = services.inbound_sheet_create(warehouse=bin_a.warehouse, type="purchase", user=manager)
    services.inbound_line_add(sheet=sheet, goods=goods, bin=bin_a, quantity=4)

    # when
    client.post(
        reverse("admin:inventory_inboundsheet_changelist"),
        {"action": "post_drafts", "_selected_action": [sheet.pk], "index": 0},
    )

    # then
    sheet.refresh_from_db()
    assert sheet.status == "posted"
    assert StockBalance.objects.get(goods=goods).on_hand == 4


# --- the race between a receipt and a bin deactivation --------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_bin_deactivated_while_stock_arrives_either_waits_for_it_or_refuses_it():
    # given: a receipt into the bin, paused inside its transaction (bins share-locked)
    bin_a = BinFactory(code="RACE-1")
    goods = GoodsFactory()
    inside, release = threading.Event(), threading.Event()
    outcome = {}

    def pause(event):
        inside.set()
        release.wait(10)

    def receive():
        try:
            receive_stock(goods, bin_a, 5)
        finally:
            connections.close_all()

    def deactivate():
        try:
            warehouse_services.bin_deactivate(bin=bin_a)
            outcome["deactivated"] = True
        except BinsGuarded as refused:
            outcome["refused"] = str(refused.refusals.get(bin_a.pk, ""))
        finally:
            connections.close_all()

    # when: the deactivation starts while the receipt holds its share lock
    with hooks.registered(in_transaction=pause, kinds={"in_purchase"}):
        receiver = threading.Thread(target=receive)
        receiver.start()
        assert inside.wait(10)
        deactivator = threading.Thread(target=deactivate)
        deactivator.start()
        deactivator.join(1)
        waited = deactivator.is_alive()
        release.set()
        receiver.join(10)
        deactivator.join(10)

    # then: it waited for the receipt, then saw the stock and refused
    assert waited
    assert "still holds 5 units" in outcome.get("refused", "")
    bin_a.refresh_from_db()
    assert bin_a.is_active


def test_a_goods_holding_stock_cannot_become_a_combo_in_the_editor():
    # given
    from inventory.services.goods import InvalidGoods, combo_component_set

    stocked = GoodsFactory(sku="GIFTBOX")
    receive_stock(stocked, BinFactory(), 5)

    # when / then
    with pytest.raises(InvalidGoods) as refused:
        combo_component_set(combo=stocked, component=GoodsFactory(), quantity=1)
    assert "GIFTBOX still holds stock" in str(refused.value)
    stocked.refresh_from_db()
    assert not stocked.is_combo
    assert not stocked.components.exists()


def test_a_goods_holding_stock_cannot_become_a_combo_by_import(tmp_path):
    # given
    from inventory.tests.test_import_support import (
        csv_bytes,
        import_file,
        messages_of,
        write,
    )

    stocked = GoodsFactory(sku="GIFTBOX")
    GoodsFactory(sku="LIPSTICK")
    receive_stock(stocked, BinFactory(), 5)
    rows = [["combo_sku", "component_sku", "quantity"], ["GIFTBOX", "LIPSTICK", 1]]

    # when
    report = import_file(write(tmp_path, "combos.csv", csv_bytes(rows)), "combo_components")

    # then
    assert messages_of(report) == [
        "row 2, combo_sku: GIFTBOX still holds stock, so it cannot become a combo"
    ]
    stocked.refresh_from_db()
    assert not stocked.is_combo
    assert not stocked.components.exists()
