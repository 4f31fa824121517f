"""The home page of work: per role, the right counts, links to the filtered lists, the discard
action, and a constant number of queries."""

import datetime
import os

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from freezes.models import Freeze, Reason
from freezes.scope import Scope
from freezes.services.freezing import freeze_create
from freezes.services.release import release_request_create
from inventory.models import ImportJob, InboundSheet, OutboundSheet
from inventory.tests.factories import BatchFactory, GoodsFactory, receive_stock
from warehouses.tests.factories import BinFactory

pytestmark = pytest.mark.django_db


def counts(client) -> dict[str, int]:
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return {item.key: item.count for item in response.context["work"]}


@pytest.fixture
def world(make_user):
    """Two freezes (one 40 days old), one pending release request by staff on a freeze the
    manager did not make, a near-expiry batch with unfrozen stock and one frozen whole, drafts
    old and new, and imports of the staff user."""
    staff, manager, qc = make_user("staff"), make_user("manager"), make_user("qc")
    bin_ = BinFactory()
    today = timezone.localdate()
    goods = GoodsFactory()
    near = BatchFactory(goods=goods, expiry_date=today + datetime.timedelta(days=10))
    frozen_near = BatchFactory(goods=goods, expiry_date=today + datetime.timedelta(days=5))
    far = BatchFactory(goods=goods, expiry_date=today + datetime.timedelta(days=400))
    for batch in (near, frozen_near, far):
        receive_stock(goods, bin_, 10, batch=batch)
    old = freeze_create(scope=Scope(batch_id=frozen_near.pk), reason=Reason.DAMAGED, operator=qc)
    Freeze.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=40))
    fresh = freeze_create(
        scope=Scope(batch_id=far.pk), reason=Reason.QC_HOLD, operator=staff, quantity=2
    )
    release_request_create(freeze=old, requester=staff, reason="checked, fine")
    release_request_create(freeze=fresh, requester=qc, reason="passed")
    long_ago = timezone.now() - datetime.timedelta(days=3)
    InboundSheet.objects.create(warehouse=bin_.warehouse, created_by=staff, created_at=long_ago)
    InboundSheet.objects.create(warehouse=bin_.warehouse, created_by=staff)
    OutboundSheet.objects.create(warehouse=bin_.warehouse, created_by=staff, created_at=long_ago)
    OutboundSheet.objects.create(
        warehouse=bin_.warehouse, created_by=staff, created_at=long_ago, status="posted"
    )
    jobs = {}
    for status in ("ready", "ready", "failed", "done"):
        job = ImportJob(resource="goods", user=staff, original_name=f"{status}.xlsx", status=status)
        job.file.save(f"{status}.xlsx", ContentFile(b"x"), save=False)
        job.save()
        jobs.setdefault(status, []).append(job)
    return {"staff": staff, "manager": manager, "qc": qc, "jobs": jobs}


def test_counts_per_role(client, world):
    # a manager decides both requests (neither is his) and sees the rest
    client.force_login(world["manager"])
    manager = counts(client)
    assert manager["release_requests"] == 2
    assert manager["ageing_freezes"] == 1
    assert manager["near_expiry_unfrozen"] == 1  # the frozen-whole batch is not counted
    assert manager["stale_inbound_drafts"] == 1 and manager["stale_outbound_drafts"] == 1
    # staff cannot approve; their own imports: two checked, one failed
    client.force_login(world["staff"])
    staff = counts(client)
    assert "release_requests" not in staff
    assert staff["imports_not_committed"] == 2 and staff["imports_failed"] == 1
    # a QC inspector freezes but does not approve
    client.force_login(world["qc"])
    assert "release_requests" not in counts(client)


def test_the_two_person_rule_holds_on_the_count(client, world, make_user):
    # given the manager made the old freeze's request himself
    client.force_login(world["manager"])
    freeze = Freeze.objects.order_by("pk").first()
    release_request_create(freeze=freeze, requester=world["manager"], reason="mine")
    # then his own request is not waiting for him
    assert counts(client)["release_requests"] == 2


def test_a_store_manager_sees_no_stock_or_freeze_work(client, make_user):
    # (a store manager may import store sales, so his own imports are listed; and he grabs)
    client.force_login(make_user("store"))
    assert set(counts(client)) <= {"imports_not_committed", "imports_failed", "open_grab_windows"}


def test_links_open_the_filtered_lists(client, world):
    client.force_login(world["manager"])
    items = {item.key: item for item in client.get(reverse("home")).context["work"]}
    drafts = client.get(items["stale_inbound_drafts"].url)
    assert drafts.status_code == 200
    body = drafts.content.decode()
    old, new = InboundSheet.objects.order_by("pk")
    assert old.number in body and new.number not in body
    for key in ("release_requests", "ageing_freezes", "near_expiry_unfrozen"):
        assert client.get(items[key].url).status_code == 200, key


def test_discard_a_checked_import_from_home(client, world, django_capture_on_commit_callbacks):
    client.force_login(world["staff"])
    job = world["jobs"]["ready"][0]
    path = job.file.path
    body = client.get(reverse("home")).content.decode()
    assert reverse("inventory:import-job-discard", args=[job.pk]) in body
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("inventory:import-job-discard", args=[job.pk]))
    # then
    assert response.url == reverse("home")
    assert not ImportJob.objects.filter(pk=job.pk).exists()
    assert not os.path.exists(path)
    assert counts(client)["imports_not_committed"] == 1
    # a done import, or someone else's, cannot be discarded
    done = world["jobs"]["done"][0]
    client.post(reverse("inventory:import-job-discard", args=[done.pk]))
    assert ImportJob.objects.filter(pk=done.pk).exists()
    client.force_login(world["manager"])
    other = world["jobs"]["ready"][1]
    client.post(reverse("inventory:import-job-discard", args=[other.pk]))
    assert ImportJob.objects.filter(pk=other.pk).exists()
    assert client.get(reverse("inventory:import-job-discard", args=[other.pk])).status_code == 405


def test_home_costs_a_constant_number_of_queries(client, world):
    client.force_login(world["manager"])
    client.get(reverse("home"))
    with CaptureQueriesContext(connection) as first:
        client.get(reverse("home"))
    # more of everything
    for _n in range(5):
        InboundSheet.objects.create(
            warehouse=BinFactory().warehouse,
            created_by=world["staff"],
            created_at=timezone.now() - datetime.timedelta(days=9),
        )
    with CaptureQueriesContext(connection) as second:
        client.get(reverse("home"))
    assert len(first.captured_queries) == len(second.captured_queries) <= 16


def test_home_in_chinese(client, world):
    client.force_login(world["manager"])
    with translation.override("zh-hans"):  # the language must not leak into later tests
        body = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "等待我审核的解冻申请" in body
