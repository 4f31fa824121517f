"""The import flow on the screens (upload, preview, commit, background jobs), the template, the
management command and the admin's import."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from inventory.imports import jobs
from inventory.models import Goods, ImportJob
from inventory.tests.factories import BrandFactory, GoodsFactory
from inventory.tests.test_import_support import csv_bytes, media_root, write, xlsx_bytes

pytestmark = pytest.mark.django_db
__all__ = ["media_root"]

START = reverse("inventory:import-start")


@pytest.fixture
def manager(make_user, media_root):
    return make_user("manager")


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def _upload(client, name: str, content: bytes, resource: str = "goods"):
    return client.post(
        START, {"resource": resource, "file": SimpleUploadedFile(name, content)}, follow=True
    )


def test_a_small_file_is_checked_at_once_and_committed_after_the_preview(manager_client):
    # given
    BrandFactory(name="Acme")
    rows = [["sku", "name", "brand"], ["N-1", "One", "Acme"], ["N-2", "Two", ""]]
    # when: upload
    response = _upload(manager_client, "goods.xlsx", xlsx_bytes(rows))
    job = ImportJob.objects.get()
    # then: the preview, nothing written yet
    assert job.status == ImportJob.Status.READY and not job.in_background
    assert response.context["preview"].new == 2
    assert "Import 2 rows now?" in response.content.decode()
    assert Goods.objects.count() == 0
    # when: commit
    committed = manager_client.post(
        reverse("inventory:import-job-commit", args=[job.pk]), follow=True
    )
    # then
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert set(Goods.objects.values_list("sku", flat=True)) == {"N-1", "N-2"}
    assert "2 new, 0 updated, 0 unchanged." in committed.content.decode()


def test_the_preview_lists_every_invalid_row_and_commit_is_not_offered(manager_client):
    rows = [["sku", "name", "brand"], ["N-1", "One", "Nope"], ["N-2", "", ""]]
    response = _upload(manager_client, "goods.csv", csv_bytes(rows))
    job = ImportJob.objects.get()
    body = response.content.decode()
    assert job.status == ImportJob.Status.INVALID
    assert "&#x27;Nope&#x27; does not exist" in body
    assert "is required for new goods" in body
    assert "Import 0 rows now?" not in body and "Upload the corrected file" in body
    response = manager_client.post(
        reverse("inventory:import-job-commit", args=[job.pk]), follow=True
    )
    assert "not waiting to be committed" in response.content.decode()
    assert Goods.objects.count() == 0


def test_a_refused_file_says_why(manager_client):
    response = _upload(manager_client, "goods.xlsx", b"sku,name\r\nA,B\r\n")
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.REFUSED
    assert "holds text" in response.content.decode()


def test_a_wrong_extension_is_refused_on_the_form(manager_client):
    response = manager_client.post(
        START, {"resource": "goods", "file": SimpleUploadedFile("goods.txt", b"x")}
    )
    assert response.status_code == 422
    assert "Only .xlsx and .csv" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_commit_rechecks_the_file_and_writes_nothing_when_it_became_invalid(manager_client):
    # given: checked while the SKU was free
    rows = [["sku", "name", "barcode"], ["N-1", "One", "6901"]]
    _upload(manager_client, "goods.csv", csv_bytes(rows))
    job = ImportJob.objects.get()
    GoodsFactory(sku="OTHER", barcode="6901")  # someone else takes the barcode meanwhile
    # when
    manager_client.post(reverse("inventory:import-job-commit", args=[job.pk]))
    # then
    job.refresh_from_db()
    assert job.status == ImportJob.Status.INVALID
    assert "already belongs to goods OTHER" in job.preview["errors"][0]["message"]
    assert not Goods.objects.filter(sku="N-1").exists()


def test_a_double_submit_commits_once(manager_client, manager):
    _upload(manager_client, "goods.csv", csv_bytes([["sku", "name"], ["N-1", "One"]]))
    job = ImportJob.objects.get()
    jobs.import_job_commit(job=job, user=manager)
    with pytest.raises(jobs.ImportRefused):
        jobs.import_job_commit(job=job, user=manager)
    assert Goods.objects.count() == 1


def test_a_large_file_runs_in_the_background_with_progress(
    manager_client, settings, django_capture_on_commit_callbacks
):
    # given
    settings.WMS_IMPORT_BACKGROUND_ROWS = 10
    rows = [["sku", "name"]] + [[f"B-{index:03d}", f"Goods {index}"] for index in range(30)]
    # when: upload; the check is queued after commit
    with django_capture_on_commit_callbacks(execute=False) as queued:
        manager_client.post(
            START, {"resource": "goods", "file": SimpleUploadedFile("big.xlsx", xlsx_bytes(rows))}
        )
    job = ImportJob.objects.get()
    assert job.in_background and job.status == ImportJob.Status.QUEUED
    page = manager_client.get(
        reverse("inventory:import-job", args=[job.pk]), HTTP_HX_REQUEST="true"
    )
    assert 'hx-trigger="every 1s"' in page.content.decode()  # the page polls while it runs
    # when: the worker runs the check (eager Celery in tests)
    for callback in queued:
        callback()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.READY
    assert job.preview["new"] == 30 and job.progress_rows == 30
    # when: commit, queued again
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(reverse("inventory:import-job-commit", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert Goods.objects.count() == 30
    final = manager_client.get(
        reverse("inventory:import-job", args=[job.pk]), HTTP_HX_REQUEST="true"
    )
    assert "every 1s" not in final.content.decode()


def test_a_redelivered_commit_task_does_nothing_the_second_time(manager_client, manager):
    _upload(manager_client, "goods.csv", csv_bytes([["sku", "name"], ["N-1", "One"]]))
    job = ImportJob.objects.get()
    jobs.import_job_commit(job=job, user=manager)
    assert jobs.import_job_run_commit(job_id=job.pk).status == ImportJob.Status.DONE
    assert Goods.objects.count() == 1


def test_users_see_only_their_own_jobs(client, make_user, media_root):
    owner = make_user("manager")
    client.force_login(owner)
    _upload(client, "goods.csv", csv_bytes([["sku", "name"], ["N-1", "One"]]))
    job = ImportJob.objects.get()
    other = make_user("manager", username="other-manager")
    client.force_login(other)
    assert client.get(reverse("inventory:import-job", args=[job.pk])).status_code == 404
    assert client.post(reverse("inventory:import-job-commit", args=[job.pk])).status_code == 404


def test_import_needs_the_resource_permissions(client, make_user, media_root):
    client.force_login(make_user("qc"))
    assert client.get(START).status_code == 403
    client.force_login(make_user("staff", username="staff-1"))
    page = client.get(START)
    choices = [choice[0] for choice in page.context["form"].fields["resource"].choices]
    assert "batches" in choices and "goods" not in choices and "combo_components" not in choices
    refused = client.post(
        START,
        {"resource": "goods", "file": SimpleUploadedFile("g.csv", csv_bytes([["sku"], ["A"]]))},
    )
    assert refused.status_code == 422
    assert not ImportJob.objects.exists()


def test_the_template_has_translated_headers_an_example_row_and_notes(manager_client):
    with translation.override("zh-hans"):
        response = manager_client.get(
            reverse("inventory:import-template", args=["goods"]), HTTP_ACCEPT_LANGUAGE="zh-hans"
        )
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    data, notes = workbook.worksheets
    headers = [cell.value for cell in data[1]]
    assert headers[0] == "SKU" and "品牌" in headers
    assert data["A2"].value == "EXAMPLE-0001"
    assert data["A3"].number_format == "@"  # SKUs typed later keep their zeros
    assert notes.max_row > 10
    assert notes["A1"].value == "列" and any("必填" in str(cell.value) for cell in notes["C"])


def test_the_downloaded_template_imports_as_it_is(manager_client, tmp_path):
    response = manager_client.get(reverse("inventory:import-template", args=["goods"]))
    content = response.content
    response = _upload(manager_client, "goods-template.xlsx", content)
    preview = response.context["preview"]
    assert (
        preview.skipped == 1
        and preview.error_count == 0
        or "no data rows" in (ImportJob.objects.get().message)
    )


# --- command ----------------------------------------------------------------------------------


def test_command_imports_and_prints_the_summary(tmp_path, capsys):
    path = write(
        tmp_path, "goods.csv", csv_bytes([["sku", "name"], ["C-1", "One"], ["C-2", "Two"]])
    )
    call_command("wms_import", "goods", str(path))
    out = capsys.readouterr().out
    assert "imported 2 rows (new 2, updated 0), errors 0" in out
    assert Goods.objects.count() == 2


def test_command_dry_run_writes_nothing(tmp_path, capsys):
    path = write(tmp_path, "goods.csv", csv_bytes([["sku", "name"], ["C-1", "One"]]))
    call_command("wms_import", "goods", str(path), "--dry-run")
    out = capsys.readouterr().out
    assert "imported 1 rows (new 1, updated 0), errors 0" in out and "dry run" in out
    assert Goods.objects.count() == 0


def test_command_exits_non_zero_on_errors(tmp_path, capsys):
    path = write(
        tmp_path, "goods.csv", csv_bytes([["sku", "name", "brand"], ["C-1", "One", "Nope"]])
    )
    with pytest.raises(CommandError) as failed:
        call_command("wms_import", "goods", str(path))
    captured = capsys.readouterr()
    assert failed.value.returncode == 1
    assert "imported 0 rows (new 0, updated 0), errors 1" in captured.out
    assert "row 2, brand: 'Nope' does not exist" in captured.err
    assert Goods.objects.count() == 0


def test_command_refuses_an_unknown_resource(tmp_path):
    with pytest.raises(CommandError, match="unknown resource"):
        call_command("wms_import", "spaceships", str(tmp_path / "x.csv"))


def test_export_command_writes_the_file(tmp_path, media_root, capsys):
    GoodsFactory(sku="X-1", name="=cmd|' /C calc'!A0")
    target = tmp_path / "out.csv"
    call_command("wms_export", "goods", str(target))
    assert "exported 1 rows" in capsys.readouterr().out
    text = target.read_text(encoding="utf-8-sig")
    assert "'=cmd|' /C calc'!A0" in text


# --- admin ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "resource"),
    [("goods", "goods"), ("batch", "batches"), ("combocomponent", "combo_components")],
)
def test_the_admin_import_sends_the_user_to_the_import_screen(
    client, make_user, media_root, model, resource
):
    # given
    client.force_login(make_user("admin"))
    url = reverse(f"admin:inventory_{model}_import")
    good = SimpleUploadedFile("goods.xlsx", xlsx_bytes([["sku", "name"], ["ADM-1", "One"]]))

    # when: the admin's Import button, and a sheet posted straight to it or to its confirmation
    opened = client.get(url, follow=True)
    posted = client.post(url, {"resource": "0", "format": "0", "import_file": good})
    confirmed = client.post(
        reverse(f"admin:inventory_{model}_process_import"),
        {"import_file_name": "x", "original_file_name": "goods.xlsx", "format": "0"},
    )

    # then: the import screen (preview first, large sheets in the background), nothing read
    assert (
        opened.redirect_chain[-1][0] == reverse("inventory:import-start") + f"?resource={resource}"
    )
    assert "background" in opened.content.decode()
    for response in (posted, confirmed):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("inventory:import-start"))
    assert not Goods.objects.filter(sku="ADM-1").exists()
    assert not ImportJob.objects.exists()


def test_import_jobs_cannot_be_deleted_or_changed_in_the_admin(client, make_user, media_root):
    # given
    client.force_login(make_user("manager"))
    _upload(client, "goods.csv", csv_bytes([["sku", "name"], ["N-1", "One"]]))
    job = ImportJob.objects.get()
    client.force_login(make_user("admin"))

    # when
    deleted = client.post(
        reverse("admin:inventory_importjob_delete", args=[job.pk]), {"post": "yes"}
    )
    listed = client.get(reverse("admin:inventory_importjob_changelist"))

    # then
    assert deleted.status_code == 403
    assert 'value="delete_selected"' not in listed.content.decode()
    assert ImportJob.objects.filter(pk=job.pk).exists()


def test_admin_import_is_forbidden_without_the_permissions(client, make_user):
    client.force_login(make_user("qc"))
    assert client.get(reverse("admin:inventory_goods_import")).status_code == 403


def test_uploaded_files_are_kept_out_of_public_urls(manager_client, media_root):
    _upload(manager_client, "goods.csv", csv_bytes([["sku", "name"], ["N-1", "One"]]))
    job = ImportJob.objects.get()
    assert Path(media_root, job.file.name).exists()
    assert manager_client.get("/media/" + job.file.name).status_code == 404


def test_a_broker_outage_keeps_the_job_waiting_until_the_broker_is_back(
    manager_client, settings, monkeypatch, django_capture_on_commit_callbacks
):
    import datetime

    from kombu.exceptions import OperationalError

    from inventory.tasks import import_job_check_task
    from wms.celery import app
    from wms.models import TaskOutbox
    from wms.outbox import outbox_drain

    # given: the broker refuses every message
    settings.WMS_IMPORT_BACKGROUND_ROWS = 1
    with monkeypatch.context() as patch:
        patch.setitem(app.conf, "task_always_eager", False)
        patch.setattr(
            import_job_check_task,
            "apply_async",
            lambda *args, **kwargs: (_ for _ in ()).throw(OperationalError("down")),
        )
        rows = [["sku", "name"], ["A-1", "a"], ["A-2", "b"], ["A-3", "c"]]
        # when
        with django_capture_on_commit_callbacks(execute=True):
            response = manager_client.post(
                START, {"resource": "goods", "file": SimpleUploadedFile("g.xlsx", xlsx_bytes(rows))}
            )
    # then: the upload is kept, waiting; the check is kept in the outbox
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert job.status == ImportJob.Status.QUEUED
    assert TaskOutbox.objects.get().task == import_job_check_task.name
    assert Goods.objects.count() == 0

    # when: the broker is back
    assert outbox_drain(older_than=datetime.timedelta(0)) == 1

    # then: the check ran
    job.refresh_from_db()
    assert job.status == ImportJob.Status.READY
    assert not TaskOutbox.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_commits_of_the_same_new_skus_write_once_and_refuse_the_other(tmp_path):
    # given: two users import the same new goods at the same moment
    import threading

    from django.db import connections

    from inventory.tests.test_import_support import import_file

    path = write(
        tmp_path, "goods.csv", csv_bytes([["sku", "name"]] + [[f"S-{i}", "x"] for i in range(50)])
    )
    barrier = threading.Barrier(2)
    reports = []

    def commit():
        try:
            barrier.wait(timeout=10)
            reports.append(import_file(path))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=commit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then: one wrote every row; the other wrote nothing and says why (or found them all there)
    written = [report for report in reports if report.written]
    assert len(reports) == 2 and len(written) >= 1
    assert Goods.objects.count() == 50
    for report in reports:
        if not report.written:
            assert "Nothing was imported" in report.refused


def test_admin_refuses_to_delete_goods_that_others_point_to(client, make_user):
    from inventory.tests.factories import BatchFactory

    client.force_login(make_user("admin"))
    batch = BatchFactory()
    response = client.post(
        reverse("admin:inventory_goods_delete", args=[batch.goods_id]), {"post": "yes"}
    )
    assert response.status_code == 200
    assert (
        "Cannot delete" in response.content.decode()
        or "would require deleting" in response.content.decode()
    )
    assert Goods.objects.filter(pk=batch.goods_id).exists()


def test_the_sweeper_recommits_an_import_whose_worker_died_and_writes_it_once(
    manager_client, manager, settings, django_capture_on_commit_callbacks
):
    # given: a background commit taken by a worker that then died (nothing of it committed)
    from django.utils import timezone

    from wms.jobs import jobs_sweep

    settings.WMS_IMPORT_BACKGROUND_ROWS = 1
    rows = [["sku", "name"], ["D-1", "a"], ["D-2", "b"], ["D-3", "c"]]
    with django_capture_on_commit_callbacks(execute=True):
        _upload(manager_client, "g.csv", csv_bytes(rows))
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.READY
    with django_capture_on_commit_callbacks(execute=False):
        jobs.import_job_commit(job=job, user=manager)
    ImportJob.objects.filter(pk=job.pk).update(attempts=2, heartbeat_at=timezone.now())

    # when
    with django_capture_on_commit_callbacks(execute=True):
        recovered = jobs_sweep()

    # then
    job.refresh_from_db()
    assert recovered == 1
    assert (job.status, job.attempts) == (ImportJob.Status.DONE, 3)
    assert sorted(Goods.objects.values_list("sku", flat=True)) == ["D-1", "D-2", "D-3"]


def test_the_sweeper_rechecks_a_file_whose_worker_died_while_checking(
    manager_client, settings, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from wms.jobs import jobs_sweep

    settings.WMS_IMPORT_BACKGROUND_ROWS = 1
    rows = [["sku", "name"], ["D-1", "a"], ["D-2", "b"]]
    with django_capture_on_commit_callbacks(execute=False):
        _upload(manager_client, "g.csv", csv_bytes(rows))
    ImportJob.objects.update(
        status=ImportJob.Status.CHECKING, attempts=1, heartbeat_at=timezone.now()
    )

    with django_capture_on_commit_callbacks(execute=True):
        jobs_sweep()

    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.READY and job.preview["new"] == 2


def test_the_sweeper_fails_an_import_that_killed_its_worker_every_time(manager, media_root):
    from django.utils import timezone

    from wms.jobs import MAX_ATTEMPTS, jobs_sweep

    job = ImportJob.objects.create(
        resource="goods",
        user=manager,
        original_name="huge.xlsx",
        status=ImportJob.Status.COMMITTING,
        attempts=MAX_ATTEMPTS,
        heartbeat_at=timezone.now(),
    )

    jobs_sweep()

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert "Nothing was written" in job.message and f"{MAX_ATTEMPTS} times" in job.message
