"""Only the ``inventory/ledger/`` package writes ``StockBalance`` and ``StockMovement``
(STYLE.md, "The stock rule").

Two nets:

* At the database driver: every SQL statement that inserts, updates or deletes rows of the two
  tables is intercepted (``connection.execute_wrapper``, so ORM calls, bulk operations and raw
  SQL alike) while every stock-changing entry point runs: the document services, the screens
  (posted through the test client), the admin, the demo loader and the management commands. The
  code that issued each write must be a module of ``inventory/ledger/``.
* In the source: no module of the project other than the ledger calls a writing queryset or
  model method on those models (or their related managers), or holds SQL that writes their
  tables. Tests (which corrupt data on purpose to test ``wms_reconcile``) and ``bench/`` (whose
  raw-SQL baselines are the point of a benchmark) are the only exemptions; migrations create the
  tables.
"""

import ast
import io
import re
import traceback
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from inventory.models import InboundSheet, OutboundSheet
from inventory.services import stock as services
from inventory.tests.factories import GoodsFactory
from warehouses.tests.factories import BinFactory

ROOT = Path(__file__).resolve().parent.parent
LEDGER = ROOT / "inventory" / "ledger"
TABLES = ("inventory_stockbalance", "inventory_stockmovement")
# Anywhere in the statement, so writes inside ``WITH ... AS (UPDATE ...)`` count too.
WRITE_SQL = re.compile(
    r'\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(inventory_stockbalance|inventory_stockmovement)\b',
    re.IGNORECASE,
)
APPS = ("wms", "warehouses", "inventory", "freezes", "allocation", "channels_sync")


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
            if ROOT in path.parents and ".venv" not in path.parts and path != Path(__file__):
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
        {(issuer, sql) for issuer, sql in spy.writes if not issuer.startswith("inventory/ledger/")}
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


def _project_modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            parts = set(path.relative_to(ROOT).parts)
            if "migrations" in parts or "tests" in parts or LEDGER in path.parents:
                continue
            yield path


WRITING_CALLS = {
    "create",
    "bulk_create",
    "bulk_update",
    "update",
    "update_or_create",
    "get_or_create",
    "delete",
    "save",
    "raw",
}
LEDGER_NAMES = re.compile(r"\b(StockBalance|StockMovement|balances|movements)\b")


def test_no_module_but_the_ledger_writes_balances_or_movements_in_its_source():
    # given
    offences = []

    # when
    for path in _project_modules():
        text = path.read_text()
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr not in WRITING_CALLS:
                    continue
                receiver = ast.get_source_segment(text, node.func.value) or ""
                if LEDGER_NAMES.search(receiver):
                    offences.append(
                        f"{path.relative_to(ROOT)}:{node.lineno}: {receiver}.{node.func.attr}()"
                    )
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                for statement in re.split(r";", node.value):
                    if WRITE_SQL.search(statement):
                        offences.append(
                            f"{path.relative_to(ROOT)}:{node.lineno}: SQL writes a ledger table"
                        )

    # then
    assert offences == []


def test_the_source_scan_would_catch_a_writer():
    # given: code such as a careless view might contain
    samples = [
        "StockBalance.objects.filter(pk=1).update(on_hand=0)",
        "goods.balances.create(on_hand=3)",
        "StockMovement.objects.bulk_create(rows)",
    ]

    # when
    caught = []
    for sample in samples:
        call = ast.parse(sample).body[0].value
        receiver = ast.get_source_segment(sample, call.func.value)
        caught.append(call.func.attr in WRITING_CALLS and bool(LEDGER_NAMES.search(receiver)))

    # then
    assert caught == [True, True, True]
    assert WRITE_SQL.search('UPDATE "inventory_stockbalance" SET on_hand = 0')
    assert WRITE_SQL.search('WITH moved AS (UPDATE "inventory_stockbalance" SET on_hand = 0)')
    assert not WRITE_SQL.search('SELECT * FROM "inventory_stockbalance"')
    assert not WRITE_SQL.search('SELECT 1 FROM "inventory_stockbalance" FOR UPDATE OF "x"')
    assert TABLES
