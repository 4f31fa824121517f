"""The sticky-freeze approval window, on real PostgreSQL with two connections.

Releasing everything of a sticky freeze first stops it catching arrivals in a short transaction
of its own, then releases in a second one. A decision made on another connection between the
two (the request rejected or withdrawn, the release time moved) used to leave the freeze
stopped with nothing released: it must catch arrivals again, with a ``sticky_resumed`` event."""

import datetime
import threading

import pytest
from django.db import connections
from django.utils import timezone

from freezes.exceptions import AlreadyDecided
from freezes.models import Freeze, FreezeEvent, Reason
from freezes.scope import Scope
from freezes.services import release
from freezes.services.freezing import freeze_create, freeze_update
from freezes.services.release import (
    freeze_release_at_time,
    release_request_approve,
    release_request_create,
    release_request_reject,
)
from freezes.tests.conftest import World, receive

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _on_another_connection(fn) -> object:
    """Run ``fn`` in a thread with its own database connection; return what it returned."""
    result: dict = {}

    def run():
        try:
            result["value"] = fn()
        except Exception as error:  # noqa: BLE001 - the test inspects what happened
            result["value"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(15)
    assert not thread.is_alive()
    return result["value"]


@pytest.fixture
def world_tx(transactional_db):
    return World()


def _kinds(freeze: Freeze) -> list[str]:
    return list(freeze.events.order_by("created_at", "pk").values_list("kind", flat=True))


def test_a_request_rejected_inside_the_approval_window_leaves_the_sticky_freeze_catching(
    world_tx, make_user, monkeypatch
):
    # given: a sticky freeze, a request to release everything, two approvers
    world = world_tx
    clerk, manager = make_user("staff"), make_user("manager")
    manager2 = make_user("manager", username="manager2")
    receive(world.snack, world.bin, 10)
    freeze = freeze_create(
        scope=Scope(goods_id=world.snack.pk), reason=Reason.DAMAGED, is_sticky=True, operator=clerk
    )
    request = release_request_create(freeze=freeze, requester=clerk, reason="all fine")
    stop = release._stop_catching_for

    def stop_then_another_approver_rejects(*args, **kwargs):
        stopped = stop(*args, **kwargs)
        rejected = _on_another_connection(
            lambda: release_request_reject(request=request, approver=manager2, comment="no")
        )
        assert not isinstance(rejected, Exception), rejected
        return stopped

    monkeypatch.setattr(release, "_stop_catching_for", stop_then_another_approver_rejects)

    # when
    with pytest.raises(AlreadyDecided):
        release_request_approve(request=request, approver=manager, comment="ok")

    # then: nothing released, the freeze catches arrivals again, and the timeline says so
    freeze.refresh_from_db()
    assert freeze.is_catching
    assert _kinds(freeze)[-3:] == [
        FreezeEvent.Kind.STICKY_ENDED,
        FreezeEvent.Kind.RELEASE_REJECTED,
        FreezeEvent.Kind.STICKY_RESUMED,
    ]
    resumed = freeze.events.get(kind=FreezeEvent.Kind.STICKY_RESUMED)
    assert resumed.actor == manager
    arrived = receive(world.snack, world.bin2, 3)
    assert arrived.frozen == 3
    assert sum(line.held for line in freeze.lines.all()) == 13


def test_a_release_time_moved_inside_the_window_leaves_the_sticky_freeze_catching(
    world_tx, make_user, monkeypatch
):
    # given: a sticky presale freeze whose release time has come
    world = world_tx
    clerk = make_user("staff")
    now = timezone.now()
    receive(world.phone, world.bin, 5)
    freeze = freeze_create(
        scope=Scope(goods_id=world.phone.pk),
        reason=Reason.PRESALE_RESERVE,
        is_sticky=True,
        release_at=now + datetime.timedelta(minutes=5),
        operator=clerk,
        now=now,
    )
    due = now + datetime.timedelta(minutes=6)
    stop = release.common.stop_catching

    def stop_then_the_presale_is_postponed(*args, **kwargs):
        stopped = stop(*args, **kwargs)
        moved = _on_another_connection(
            lambda: freeze_update(
                freeze=freeze,
                operator=clerk,
                note="",
                release_at=due + datetime.timedelta(days=2),
                release_on_qc_pass=False,
                now=due,
            )
        )
        assert not isinstance(moved, Exception), moved
        return stopped

    monkeypatch.setattr(release.common, "stop_catching", stop_then_the_presale_is_postponed)

    # when
    released = freeze_release_at_time(freeze_id=freeze.pk, now=due)

    # then
    assert released == 0
    freeze.refresh_from_db()
    assert freeze.is_active and freeze.is_catching
    assert FreezeEvent.Kind.STICKY_RESUMED in _kinds(freeze)
    assert receive(world.phone, world.bin2, 2).frozen == 2
