"""The first-come pool's hot row (PostgreSQL): a grab for an exhausted pool is answered without
waiting for the row's lock, and grabs that do wait are bounded per pool by the slot locks."""

import threading

import pytest
from django.db import connection, connections

from allocation import reasons
from allocation.models import GrabPool, GrabRequest
from allocation.services import grabs, windows

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _grab(world, user, store, window, quantity, out):
    try:
        out.append(
            grabs.grab_request_submit(
                user=user,
                store=store,
                window=window,
                goods_id=world.goods.pk,
                quantity=quantity,
            )
        )
    finally:
        connections.close_all()


def _holding_the_pool_row(pool_id):
    """Another connection holding the pool's row lock as a grab does (its counter UPDATE takes
    FOR NO KEY UPDATE, which the foreign keys of a refused request's rows do not wait for)."""
    import psycopg2

    other = psycopg2.connect(**connection.get_connection_params())
    cursor = other.cursor()
    cursor.execute("UPDATE allocation_grabpool SET granted = granted WHERE id = %s", [pool_id])
    return other


def test_an_exhausted_pool_answers_without_waiting_for_its_row(world_tx):
    world = world_tx
    window = world.open_window(offers=[windows.Offer(world.goods, 10)])
    grabs.grab_request_submit(
        user=world.alice, store=world.store_a, window=window, goods_id=world.goods.pk, quantity=10
    )
    pool = GrabPool.objects.get(window=window)
    other = _holding_the_pool_row(pool.pk)
    try:
        out = []
        late = threading.Thread(
            target=_grab, args=(world, world.bob, world.store_b, window, 3, out)
        )
        late.start()
        late.join(timeout=20)
        assert not late.is_alive(), "the late grab waited for the pool's row lock"
    finally:
        other.rollback()
        other.close()
    (answer,) = out
    assert (answer.status, answer.granted, answer.reason_code) == (
        GrabRequest.Status.REFUSED,
        0,
        reasons.EXHAUSTED,
    )


def test_grabs_waiting_at_one_pool_are_bounded_and_all_answered(world_tx, monkeypatch):
    world = world_tx
    monkeypatch.setattr(grabs, "POOL_WAITERS", 1)
    window = world.open_window(offers=[windows.Offer(world.goods, 100)])
    pool = GrabPool.objects.get(window=window)
    other = _holding_the_pool_row(pool.pk)
    people = [(world.alice, world.store_a), (world.bob, world.store_b)]
    people += [(world.carol, world.store_c)]
    out: list = []
    threads = [
        threading.Thread(target=_grab, args=(world, user, store, window, 5, out))
        for user, store in people
    ]
    try:
        for thread in threads:
            thread.start()
        with connection.cursor() as cursor:
            for _ in range(200):  # until all three wait: at the row, or on their slot
                cursor.execute(
                    "SELECT count(*) FILTER (WHERE wait_event = 'advisory'),"
                    " count(*) FILTER (WHERE wait_event IN ('transactionid', 'tuple'))"
                    " FROM pg_stat_activity WHERE query LIKE %s AND pid <> pg_backend_pid()",
                    ["EXECUTE allocation_grab%"],
                )
                on_slots, at_row = cursor.fetchone()
                if on_slots + at_row == len(threads):
                    break
                threading.Event().wait(0.05)
        assert (at_row, on_slots) == (1, 2)  # one at the row, the others queue on the slot
    finally:
        other.rollback()
        other.close()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(r.granted for r in out) == [5, 5, 5]
    assert GrabPool.objects.get(window=window).granted == 15


def test_a_zero_cap_refuses_with_the_cap_not_an_empty_pool(world_tx):
    # given a policy whose cap per store and goods is 0, and a full pool
    world = world_tx
    world.policy.cap_per_goods = 0
    world.policy.save()
    window = world.open_window()
    # when a store grabs
    answer = grabs.grab_request_submit(
        user=world.alice, store=world.store_a, window=window, goods_id=world.goods.pk, quantity=5
    )
    # then it is refused for the cap (the pool holds 100), as the checked path says it
    assert (answer.status, answer.granted, answer.reason_code) == (
        GrabRequest.Status.REFUSED,
        0,
        reasons.PARTIAL_CAP,
    )
    assert GrabPool.objects.get(window=window).granted == 0
