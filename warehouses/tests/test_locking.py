"""Row locks and races, on PostgreSQL (SQLite has no row locks)."""

import threading

import psycopg2
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from psycopg2 import errors

from warehouses import hooks, services
from warehouses.exceptions import DuplicateCode
from warehouses.models import Bin, Warehouse
from warehouses.tests.factories import BinFactory, ZoneFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _row_is_locked_elsewhere(table: str, pk: int) -> bool:
    """Try to lock the row from a second connection without waiting."""
    other = psycopg2.connect(**connection.get_connection_params())
    try:
        with other.cursor() as cursor:
            cursor.execute(f"SELECT id FROM {table} WHERE id = %s FOR UPDATE NOWAIT", [pk])
        return False
    except errors.LockNotAvailable:
        return True
    finally:
        other.rollback()
        other.close()


def test_bin_deactivate_asks_the_guards_while_holding_the_bin_row_locks():
    # given
    first = BinFactory(code="A-01")
    second = BinFactory(code="A-02", zone=first.zone)
    seen: dict[int, bool] = {}

    def guard(bins):
        for b in bins:
            seen[b.pk] = _row_is_locked_elsewhere("warehouses_bin", b.pk)
        return {}

    hooks.register_bin_deactivation_guard(guard)
    try:
        # when
        with CaptureQueriesContext(connection) as queries:
            services.bin_deactivate_many(bins=[second, first])
    finally:
        hooks.unregister_bin_deactivation_guard(guard)

    # then: both rows were locked when the guard ran, by one query in primary-key order
    assert seen == {first.pk: True, second.pk: True}
    locking = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
    assert len(locking) == 1
    assert 'ORDER BY "warehouses_bin"."id" ASC' in locking[0]
    assert 'FOR UPDATE OF "warehouses_bin"' in locking[0]
    # and released at commit
    assert not _row_is_locked_elsewhere("warehouses_bin", first.pk)


def test_warehouse_deactivate_locks_the_warehouse_and_its_bins_before_the_guards():
    # given
    bin_ = BinFactory()
    warehouse = bin_.warehouse
    seen: dict[str, bool] = {}

    def guard(bins):
        seen["warehouse"] = _row_is_locked_elsewhere("warehouses_warehouse", warehouse.pk)
        seen["bin"] = _row_is_locked_elsewhere("warehouses_bin", bin_.pk)
        return {}

    hooks.register_bin_deactivation_guard(guard)
    try:
        # when
        services.warehouse_deactivate(warehouse=warehouse)
    finally:
        hooks.unregister_bin_deactivation_guard(guard)

    # then
    assert seen == {"warehouse": True, "bin": True}


def _race(*targets) -> list:
    """Run each target in its own thread, released together; their results or exceptions."""
    barrier = threading.Barrier(len(targets))
    results: list = [None] * len(targets)

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = targets[index]()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(targets))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_concurrent_creates_of_one_bin_code_make_one_bin_and_one_duplicate_refusal():
    # given
    zone = ZoneFactory()

    def create():
        return services.bin_create(warehouse=zone.warehouse, zone=zone, code="A-01")

    # when
    results = _race(create, create)

    # then
    assert sorted(type(r).__name__ for r in results) == ["Bin", "DuplicateCode"]
    assert Bin.objects.filter(warehouse=zone.warehouse, code="A-01").count() == 1


def test_concurrent_creates_of_one_warehouse_code_in_two_letter_cases_make_one_warehouse():
    # when
    results = _race(
        lambda: services.warehouse_create(code="SYD-09", name="Upper"),
        lambda: services.warehouse_create(code="syd-09", name="Lower"),
    )

    # then
    assert sorted(type(r).__name__ for r in results) == ["DuplicateCode", "Warehouse"]
    refusal = next(r for r in results if isinstance(r, DuplicateCode))
    assert refusal.field == "code"
    assert Warehouse.objects.filter(code__iexact="syd-09").count() == 1
