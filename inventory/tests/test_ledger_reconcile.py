"""``manage.py wms_reconcile``: balances recomputed from movements, drift printed, exit 1."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from inventory import ledger, writer_guard
from inventory.models import StockMovement
from inventory.tests.factories import GoodsFactory, receive_stock
from warehouses.tests.factories import BinFactory

pytestmark = pytest.mark.django_db


def test_reconcile_reports_zero_drift_after_normal_postings(capsys):
    # given
    bin_a = BinFactory()
    goods = GoodsFactory()
    balance = receive_stock(goods, bin_a, 9)
    ledger.freeze(holds=[ledger.Hold(balance.pk, 2)], document=ledger.Document("other"))
    ledger.reserve(holds=[ledger.Hold(balance.pk, 3)], document=ledger.Document("other"))

    # when
    call_command("wms_reconcile")

    # then
    assert "0 drift" in capsys.readouterr().out


def test_reconcile_prints_each_drifting_row_and_exits_non_zero(capsys):
    # given: a balance changed behind the ledger's back (simulated corruption)
    bin_a = BinFactory(code="R-01")
    goods = GoodsFactory(sku="DRIFT-1")
    balance = receive_stock(goods, bin_a, 9)
    with writer_guard.allowed("simulated corruption"), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE inventory_stockbalance SET on_hand = 12, reserved = 1 WHERE id = %s",
            [balance.pk],
        )

    # when
    with pytest.raises(CommandError) as failed:
        call_command("wms_reconcile")

    # then
    assert failed.value.returncode == 1
    out = capsys.readouterr().out
    assert "DRIFT-1 @ R-01" in out
    assert "stored on_hand=12 frozen=0 reserved=1; movements on_hand=9 frozen=0 reserved=0" in out
    assert "drift +3/+0/+1" in out


def test_reconcile_reports_a_movement_filed_under_the_wrong_goods(capsys):
    # given
    bin_a = BinFactory()
    goods, other = GoodsFactory(), GoodsFactory()
    receive_stock(goods, bin_a, 1)
    movement = StockMovement.objects.get()
    with writer_guard.allowed("simulated corruption"), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE inventory_stockmovement DISABLE TRIGGER USER")
        cursor.execute(
            "UPDATE inventory_stockmovement SET goods_id = %s WHERE id = %s",
            [other.pk, movement.pk],
        )
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE inventory_stockmovement ENABLE TRIGGER USER")

    # when / then
    with pytest.raises(CommandError):
        call_command("wms_reconcile")
    assert "movements disagree" in capsys.readouterr().out


@pytest.mark.postgres
def test_movements_cannot_be_updated_or_deleted_on_postgresql():
    # given
    bin_a = BinFactory()
    receive_stock(GoodsFactory(), bin_a, 1)
    from django.db import DatabaseError, transaction

    # when / then
    for sql in (
        "UPDATE inventory_stockmovement SET quantity = 2",
        "DELETE FROM inventory_stockmovement",
    ):
        with (
            writer_guard.allowed("proving the database itself refuses it"),
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    assert StockMovement.objects.get().quantity == 1
