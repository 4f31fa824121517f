"""Grabs racing the window's close or cancel (PostgreSQL, two connections): a request is never
left waiting in a window that has already been shared out."""

import threading

import pytest
from django.db import connections

from allocation.exceptions import WindowNotOpen
from allocation.models import GrabRequest, GrabWindow
from allocation.services import close, grabs, windows

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _in_another_connection(action):
    errors = []

    def run():
        try:
            action()
        except Exception as error:  # noqa: BLE001 - re-raised in the test's thread
            errors.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()
    if errors:
        raise errors[0]


@pytest.mark.parametrize("ending", ["close", "cancel"])
def test_an_at_close_grab_checked_before_the_window_ends_is_not_left_pending(
    world_tx, monkeypatch, ending
):
    # given: an at-close window; the grab has read the window as open when the manager closes
    # (or cancels) it in another connection, before the grab writes its request
    world = world_tx
    window = world.open_window(mode=GrabWindow.Mode.AT_CLOSE)
    end = {
        "close": lambda: close.window_close_now(window_id=window.pk, user=world.manager),
        "cancel": lambda: windows.window_cancel(window_id=window.pk, user=world.manager),
    }[ending]
    real = GrabWindow.is_grabbable
    fired = []

    def grabbable_then_ended(self, now=None):
        answer = real(self, now)
        if not fired:
            fired.append(True)
            _in_another_connection(end)
        return answer

    monkeypatch.setattr(GrabWindow, "is_grabbable", grabbable_then_ended)
    # when
    with pytest.raises(WindowNotOpen):
        grabs.grab_request_submit(
            user=world.alice,
            store=world.store_a,
            window=window,
            goods_id=world.goods.pk,
            quantity=5,
        )
    # then: nothing waits for a close that has already happened
    assert fired
    assert GrabWindow.objects.get(pk=window.pk).status != GrabWindow.Status.OPEN
    assert not GrabRequest.objects.filter(window=window).exists()
