"""Cancelling a window refuses its live requests; each refusal is an append-only decision like
any other, so the decisions explain every refusal (a grant taken back included)."""

import pytest

from allocation import reasons
from allocation.models import GrabDecision, GrabRequest, GrabWindow
from allocation.services import grabs, windows

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("mode", [GrabWindow.Mode.FIRST_COME, GrabWindow.Mode.AT_CLOSE])
def test_a_cancelled_window_records_a_decision_for_each_request_it_refuses(world, mode):
    # given: a granted (first come) or pending (at close) request
    window = world.open_window(mode=mode)
    request = grabs.grab_request_submit(
        user=world.alice, store=world.store_a, window=window, goods_id=world.goods.pk, quantity=30
    )
    # when the manager cancels the window
    windows.window_cancel(window_id=window.pk, user=world.manager)
    # then the request is refused and its last decision says so, and why
    request.refresh_from_db()
    assert (request.status, request.granted, request.reason_code) == (
        GrabRequest.Status.REFUSED,
        0,
        reasons.WINDOW_CANCELLED,
    )
    last = GrabDecision.objects.filter(request=request).order_by("pk").last()
    assert last is not None
    assert (last.result, last.granted, last.rule) == (
        GrabRequest.Status.REFUSED,
        0,
        "window_cancelled",
    )
    assert last.figures["requested"] == 30


def test_the_cancel_decision_reads_in_the_readers_language():
    from django.utils import translation

    with translation.override("zh-hans"):
        assert reasons.rule_label("window_cancelled") == "时段已取消"
        assert reasons.figure_items({"granted_before": 30}) == [("时段取消前已批准", 30)]
