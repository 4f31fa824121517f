"""Only ``inventory.ledger`` writes ``StockBalance`` and ``StockMovement`` (STYLE.md, "The stock
rule"), enforced by the guard in ``inventory/writer_guard.py``, which the root ``conftest.py``
installs for every test of the suite (and ``InventoryConfig.ready`` for ``make run`` under
DEBUG). These tests prove the guard: it refuses a stray ORM update or raw SQL from any app, in
any thread, even when the caller swallows the exception; it lets the ledger (module or package)
write; and every stock-changing entry point passes it.
"""

import io
import re
import threading
import traceback
import types
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.urls import reverse

from inventory import writer_guard
from inventory.models import InboundSheet, OutboundSheet, StockBalance
from inventory.services import stock as services
from inventory.tests.factories import GoodsFactory, receive_stock
from warehouses.tests.factories import BinFactory

ROOT = Path(__file__).resolve().parent.parent
WRITE_SQL = writer_guard.WRITE_SQL
LEDGER_FILE = re.compile(r"^inventory/ledger(\.py|/[a-z_]+\.py)$")


class WriterSpy:
    """Records, for every write to the ledger tables, the project file that issued it."""

    def __init__(self):
        self.writes: list[tuple[str, str]] = []

    def __call__(self, execute, sql, params, many, context):
        if WRITE_SQL.search(sql or ""):
            self.writes.append((self._issuer(), sql[:80]))
        return execute(sql, params, many, context)

    @staticmethod
    def _issuer() -> str:
        for frame in reversed(traceback.extract_stack()[:-2]):
            path = Path(frame.filename).resolve()
            if path in (Path(__file__), Path(writer_guard.__file__).resolve()):
                continue
            if ROOT in path.parents and ".venv" not in path.parts:
                return str(path.relative_to(ROOT))
        return "<outside the project>"


@pytest.mark.django_db
def test_every_write_of_balances_and_movements_comes_from_the_ledger(client, make_user):
    # given
    spy = WriterSpy()
    manager = make_user("manager")
    client.force_login(manager)
    source = BinFactory(code="W-01")
    target = BinFactory(code="W-02", zone=source.zone)
    other = BinFactory(code="X-01")
    goods = GoodsFactory(sku="ONLY-1")

    # when: every stock-changing path runs under the spy
    with connection.execute_wrapper(spy):
        sheet = services.inbound_sheet_create(
            warehouse=source.warehouse, type=InboundSheet.Type.PURCHASE, user=manager
        )
        services.inbound_line_add(sheet=sheet, goods=goods, bin=source, quantity=20)
        services.inbound_sheet_post(sheet_id=sheet.pk, user=manager)
        services.bin_transfer(goods=goods, from_bin=source, to_bin=target, quantity=3, user=manager)
        out = services.outbound_sheet_create(
            warehouse=source.warehouse, type=OutboundSheet.Type.ORDER_SHIPMENT, user=manager
        )
        services.outbound_line_add(sheet=out, goods=goods, quantity=2)
        services.outbound_sheet_post(sheet_id=out.pk, user=manager)
        services.outbound_sheet_reverse(sheet_id=out.pk, user=manager, reason="cancelled")
        transfer = services.warehouse_transfer_create(
            from_warehouse=source.warehouse, to_warehouse=other.warehouse, user=manager
        )
        line = services.warehouse_transfer_line_add(
            transfer=transfer, goods=goods, from_bin=source, quantity=4
        )
        services.warehouse_transfer_ship(transfer_id=transfer.pk, user=manager)
        services.warehouse_transfer_receive(
            transfer_id=transfer.pk,
            user=manager,
            received=[services.ReceivedLine(line.pk, other, 4)],
        )
        count = services.count_create(warehouse=source.warehouse, reason="check", user=manager)
        services.count_line_set(count=count, goods=goods, bin=target, counted=1)
        services.count_post(count_id=count.pk, user=manager)
        wrong = services.inbound_sheet_create(
            warehouse=source.warehouse, type=InboundSheet.Type.SALES_RETURN, user=manager
        )
        services.inbound_line_add(sheet=wrong, goods=goods, bin=target, quantity=2)
        services.inbound_sheet_post(sheet_id=wrong.pk, user=manager)
        services.inbound_sheet_reverse(sheet_id=wrong.pk, user=manager, reason="wrong")
        _post_through_the_screens(client, goods, source, target)
        call_command("wms_demo", stdout=io.StringIO())
        call_command("wms_reconcile", stdout=io.StringIO())

    # then
    assert spy.writes, "the workload wrote nothing: the spy saw no ledger writes"
    outsiders = sorted(
        {(issuer, sql) for issuer, sql in spy.writes if not LEDGER_FILE.match(issuer)}
    )
    assert outsiders == []


def _post_through_the_screens(client, goods, source, target):
    """The bin-transfer screen posts through the services like every stock screen."""
    url = reverse("inventory:transfer-bin")
    page = client.get(url)
    token = page.context["form"].initial["token"]
    response = client.post(
        url,
        {
            "warehouse": source.warehouse_id,
            "goods": goods.sku,
            "from_bin": source.code,
            "to_bin": target.code,
            "quantity": 1,
            "token": token,
        },
    )
    assert response.status_code == 302


def _module_in(name: str, source: str) -> types.ModuleType:
    """A throwaway module called ``name`` running ``source``: code "placed" in that app."""
    module = types.ModuleType(name)
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)  # noqa: S102 - our own test code
    return module


STRAY_UPDATE = """
from inventory.models import StockBalance

def run():
    return StockBalance.objects.update(on_hand=999)
"""
STRAY_SQL = """
from django.db import connection

def run():
    with connection.cursor() as cursor:
        cursor.execute("UPDATE inventory_stockbalance SET on_hand = 999")
"""


@pytest.mark.django_db
@pytest.mark.parametrize("app", ["freezes.services.stray", "warehouses.views", "wms.demo_extra"])
@pytest.mark.parametrize("source", [STRAY_UPDATE, STRAY_SQL], ids=["orm-update", "raw-sql"])
def test_a_stray_write_from_any_app_is_refused(app, source):
    # given
    balance = receive_stock(GoodsFactory(), BinFactory(), 5)
    stray = _module_in(app, source)

    # when
    with pytest.raises(writer_guard.LedgerBypass, match=re.escape(app)), transaction.atomic():
        stray.run()

    # then
    assert StockBalance.objects.get(pk=balance.pk).on_hand == 5
    assert len(writer_guard.take_violations()) == 1  # recorded; taken so this test passes


@pytest.mark.django_db
def test_a_swallowed_refusal_is_still_recorded_for_the_test_to_fail():
    # given: code that hides every error, as a careless import loop would
    stray = _module_in("inventory.imports.careless", STRAY_UPDATE)

    # when
    try:
        with transaction.atomic():
            stray.run()
    except Exception:  # noqa: BLE001, S110 - the point of the test
        pass

    # then: the autouse fixture would fail this test with this message
    [violation] = writer_guard.take_violations()
    assert "inventory.imports.careless" in violation
    assert "UPDATE" in violation


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_a_write_from_another_thread_is_refused():
    # given
    stray = _module_in("allocation.services.stray", STRAY_SQL)
    caught: list[BaseException] = []

    def other_thread():
        try:
            stray.run()
        except BaseException as exc:  # noqa: BLE001 - carried back to the test thread
            caught.append(exc)
        finally:
            connections.close_all()

    # when
    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()

    # then
    assert [type(exc) for exc in caught] == [writer_guard.LedgerBypass]
    assert len(writer_guard.take_violations()) == 1


@pytest.mark.django_db
def test_the_ledger_module_or_package_may_write():
    # given: code living in the ledger, as a module or as a submodule of the package
    balance = receive_stock(GoodsFactory(), BinFactory(), 5)
    writers = [
        _module_in("inventory.ledger", STRAY_UPDATE),
        _module_in("inventory.ledger.postings", STRAY_SQL),
    ]

    # when
    for writer in writers:
        writer.run()

    # then
    assert StockBalance.objects.get(pk=balance.pk).on_hand == 999
    assert writer_guard.take_violations() == []


@pytest.mark.django_db
def test_a_hook_the_ledger_calls_may_not_write_the_tables_itself():
    # given: a hook of another app, run by the ledger inside a posting, that writes directly
    from inventory import hooks, ledger

    stray = _module_in(
        "channels_sync.hooks_stray",
        STRAY_UPDATE.replace("def run():", "def run(event):"),
    )
    goods, bin_ = GoodsFactory(), BinFactory()

    # when / then: the posting is refused as a whole
    with (
        hooks.registered(in_transaction=stray.run),
        pytest.raises(writer_guard.LedgerBypass, match="channels_sync.hooks_stray"),
    ):
        ledger.receive(
            kind="in_purchase",
            lines=[ledger.Receipt(goods.pk, bin_.pk, 5)],
            document=ledger.Document(type="other", ref="HOOK"),
        )
    assert not StockBalance.objects.filter(goods=goods, on_hand__gt=0).exists()
    assert len(writer_guard.take_violations()) == 1


@pytest.mark.django_db
def test_a_module_merely_named_like_the_ledger_may_not_write():
    # given
    stray = _module_in("inventory.ledgerish", STRAY_UPDATE)

    # when / then
    with pytest.raises(writer_guard.LedgerBypass), transaction.atomic():
        stray.run()
    writer_guard.take_violations()


@pytest.mark.parametrize(
    "sql",
    [
        'UPDATE "inventory_stockbalance" SET on_hand = 0',
        "update ONLY inventory_stockmovement set quantity = 1",
        'WITH moved AS (UPDATE "inventory_stockbalance" SET on_hand = 0) SELECT 1',
        'INSERT INTO "inventory_stockmovement" (kind) VALUES (%s)',
        'DELETE FROM "public"."inventory_stockbalance"',
        'TRUNCATE "inventory_goods", "inventory_stockbalance" CASCADE',
        "COPY inventory_stockmovement FROM STDIN",
        "MERGE INTO inventory_stockbalance b USING x ON true WHEN MATCHED THEN DELETE",
    ],
)
def test_the_guard_recognises_every_kind_of_write(sql):
    assert writer_guard.is_ledger_write(sql)


@pytest.mark.parametrize(
    "sql",
    [
        'SELECT * FROM "inventory_stockbalance"',
        'SELECT 1 FROM "inventory_stockbalance" FOR UPDATE OF "inventory_stockbalance"',
        "UPDATE \"inventory_goods\" SET name = 'inventory_stockbalance'",
        'INSERT INTO "inventory_stockbalance_archive" (id) VALUES (1)',
        "ALTER TABLE inventory_stockmovement DISABLE TRIGGER USER",
    ],
)
def test_the_guard_lets_reads_and_other_tables_pass(sql):
    assert not writer_guard.is_ledger_write(sql)


def test_the_guard_is_on_for_every_connection_of_the_suite():
    assert writer_guard.guard in connection.execute_wrappers
