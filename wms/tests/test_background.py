"""The shared background pieces: advisory locks, job progress and claims, the task outbox, the
retry policy, and the rule that services never import tasks."""

from __future__ import annotations

import ast
import datetime
from pathlib import Path
from unittest import mock

import pytest
from django.db import connections, transaction
from kombu.exceptions import OperationalError as BrokerDown

from inventory.models import ImportJob
from wms import celery as policy
from wms.jobs import JobProgress, job_claim, job_lock_name
from wms.locks import advisory_key, advisory_lock, advisory_lock_is_free, advisory_xact_lock
from wms.models import TaskOutbox
from wms.outbox import enqueue_on_commit, outbox_drain, task_by_name

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def other_connection():
    """A second database session, as another worker or the polling page would have."""
    other = connections.create_connection("default")
    yield other
    other.close()


def _hold(other, name: str) -> None:
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [advisory_key(name)])


# --- locks ------------------------------------------------------------------------------------


def test_advisory_keys_are_stable_signed_64_bit_and_distinct():
    assert advisory_key("freezes.release_due") == advisory_key("freezes.release_due")
    assert advisory_key("a") != advisory_key("b")
    assert -(2**63) <= advisory_key("x") < 2**63


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_session_lock_held_elsewhere_is_not_taken_and_is_taken_once_free(other_connection):
    # given
    _hold(other_connection, "job-x")

    # when / then
    with advisory_lock("job-x") as acquired:
        assert acquired is False
    assert advisory_lock_is_free("job-x") is False
    with other_connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s)", [advisory_key("job-x")])
    with advisory_lock("job-x") as acquired:
        assert acquired is True
    assert advisory_lock_is_free("job-x") is True  # released on exit


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_transaction_lock_is_refused_while_another_session_holds_it(other_connection):
    _hold(other_connection, "combo")
    with transaction.atomic():
        assert advisory_xact_lock("combo", wait=False) is False
    with transaction.atomic():
        assert advisory_xact_lock("free-one", wait=False) is True


@pytest.mark.django_db(transaction=True)
def test_a_transaction_lock_outside_a_transaction_is_a_programming_error():
    with pytest.raises(RuntimeError):
        advisory_xact_lock("anything")


# --- job progress and claims ------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_to_the_polling_page_while_the_job_transaction_is_open(
    make_user, other_connection
):
    # given
    job = ImportJob.objects.create(
        resource="goods", user=make_user("manager"), original_name="g.csv"
    )
    # when: progress is written from inside an open transaction (as during a commit)
    with transaction.atomic(), JobProgress(ImportJob, job.pk) as progress:
        progress.write(progress_rows=4000, total_rows=10000)
        with other_connection.cursor() as cursor:
            cursor.execute(
                "SELECT progress_rows, total_rows, heartbeat_at IS NOT NULL "
                "FROM inventory_importjob WHERE id = %s",
                [job.pk],
            )
            seen = cursor.fetchone()
        # then: another connection (the polling request) already sees it, with a heartbeat
        assert seen == (4000, 10000, True)


@pytest.mark.django_db(transaction=True)
def test_progress_outside_a_transaction_is_written_on_the_main_connection(make_user):
    job = ImportJob.objects.create(
        resource="goods", user=make_user("manager"), original_name="g.csv"
    )
    JobProgress(ImportJob, job.pk).write(progress_rows=7)
    job.refresh_from_db()
    assert job.progress_rows == 7 and job.heartbeat_at is not None


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_job_claimed_by_another_worker_cannot_be_claimed(other_connection):
    # given: another worker runs job 7
    _hold(other_connection, job_lock_name("demo.job", 7))

    # when / then
    with job_claim("demo.job", 7) as claimed:
        assert claimed is False
    with job_claim("demo.job", 8) as claimed:
        assert claimed is True
        assert advisory_lock_is_free(job_lock_name("demo.job", 8)) is True  # same session
    # the claim is released on exit
    with other_connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_try_advisory_lock(%s)", [advisory_key(job_lock_name("demo.job", 8))]
        )
        assert cursor.fetchone()[0] is True


# --- the outbox -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_queued_task_is_sent_after_commit_and_its_row_removed(django_capture_on_commit_callbacks):
    # given
    with mock.patch.object(task_by_name("wms.sweep_jobs"), "apply_async") as send:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            enqueue_on_commit("wms.sweep_jobs")
        # then: nothing is sent before commit; the row is there
        assert not send.called
        assert TaskOutbox.objects.count() == 1
        # when: the transaction commits
        for callback in callbacks:
            callback()
    # then
    send.assert_called_once()
    assert not TaskOutbox.objects.exists()


@pytest.mark.django_db
def test_a_rolled_back_transaction_queues_nothing(django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ZeroDivisionError),
        transaction.atomic(),
    ):
        enqueue_on_commit("wms.sweep_jobs")
        raise ZeroDivisionError
    assert callbacks == [] and not TaskOutbox.objects.exists()


@pytest.mark.django_db
def test_an_unknown_task_name_fails_loudly():
    with pytest.raises(KeyError):
        enqueue_on_commit("wms.no_such_task")


@pytest.mark.django_db
def test_with_the_broker_down_the_task_waits_in_the_outbox_and_the_drain_sends_it(
    monkeypatch, django_capture_on_commit_callbacks
):
    # given: the broker refuses messages
    monkeypatch.setitem(policy.app.conf, "task_always_eager", False)
    task = task_by_name("wms.sweep_jobs")
    with mock.patch.object(task, "apply_async", side_effect=BrokerDown("refused")):
        # when: the request queues a task; it does not fail
        with django_capture_on_commit_callbacks(execute=True):
            enqueue_on_commit("wms.sweep_jobs")
        # then: kept, with the error
        row = TaskOutbox.objects.get()
        assert row.attempts == 1 and "refused" in row.last_error
        # and a drain while the broker is still down keeps it
        assert outbox_drain(older_than=datetime.timedelta(0)) == 0
    assert TaskOutbox.objects.get().attempts == 2
    # when: the broker is back; a fresh row is left for its own after-commit send
    with mock.patch.object(task, "apply_async") as send:
        assert outbox_drain() == 0
        assert outbox_drain(older_than=datetime.timedelta(0)) == 1
    # then
    send.assert_called_once()
    assert not TaskOutbox.objects.exists()


# --- the retry and delivery policy ------------------------------------------------------------


def test_retries_back_off_with_jitter_capped_well_below_the_visibility_timeout(settings):
    assert policy.TASK_RETRY["retry_backoff"] is True
    assert policy.TASK_RETRY["retry_jitter"] is True
    assert policy.TASK_RETRY["retry_backoff_max"] * 2 < policy.VISIBILITY_TIMEOUT
    if settings.CELERY_BROKER_URL.startswith("redis"):
        visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
        assert visibility == policy.VISIBILITY_TIMEOUT
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True


def test_every_project_task_acks_late_and_retries_below_the_visibility_timeout():
    from wms.celery import app

    app.loader.import_default_modules()
    ours = [task for name, task in app.tasks.items() if not name.startswith("celery.")]
    assert {"wms.sweep_jobs", "wms.drain_outbox", "freezes.run_freeze_job"} <= {
        task.name for task in ours
    }
    for task in ours:
        assert task.acks_late is True, task.name
        assert task.reject_on_worker_lost is True, task.name
        assert getattr(task, "retry_backoff_max", 0) < policy.VISIBILITY_TIMEOUT, task.name


# --- no services <-> tasks cycle --------------------------------------------------------------


def _project_modules() -> dict[str, Path]:
    """Every module of the project's packages (the top-level folders with an ``__init__.py``)."""
    packages = [d for d in ROOT.iterdir() if (d / "__init__.py").exists() and d.name != "bench"]
    modules = {}
    for path in (path for package in packages for path in package.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if "migrations" in relative.parts:
            continue
        parts = list(relative.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts:
            modules[".".join(parts)] = path
    return modules


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Project modules ``name`` imports anywhere in its body (function-level imports too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target:
                found.add(target)
    return found


def _is_tasks(name: str) -> bool:
    return name.rsplit(".", 1)[-1] == "tasks"


def test_no_services_module_imports_a_tasks_module():
    modules = _project_modules()
    known = set(modules)
    offenders = []
    for name, path in modules.items():
        parts = name.split(".")
        if "tests" in parts or _is_tasks(name):
            continue
        is_service = (
            "services" in parts or parts[-1] in {"ledger", "jobs", "outbox"} or ("imports" in parts)
        )
        if is_service:
            offenders += [(name, t) for t in _imports(name, path, known) if _is_tasks(t)]
    assert offenders == []


def test_no_import_cycle_runs_through_a_tasks_module():
    # given: the project's import graph (every import, at module level or inside a function)
    modules = _project_modules()
    known = set(modules)
    graph = {name: _imports(name, path, known) - {name} for name, path in modules.items()}

    # when: from each tasks module, follow imports and look for a way back to it
    cycles = []
    for start in (name for name in graph if _is_tasks(name)):
        seen, stack = set(), list(graph[start])
        while stack:
            current = stack.pop()
            if current == start:
                cycles.append(start)
                break
            if current in seen or "tests" in current.split("."):
                continue
            seen.add(current)
            stack.extend(graph.get(current, ()))

    # then
    assert cycles == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_session_lock_whose_connection_was_lost_ends_quietly(other_connection):
    # given: a job holds its claim when the database drops its connection
    from django.db import OperationalError, connection

    with pytest.raises(OperationalError), advisory_lock("lost") as acquired:
        assert acquired
        with other_connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(%s)", [connection.connection.info.backend_pid]
            )
        # when: the job's next statement fails
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    # then: the job's own error came out (not one from releasing the lock), and the lock is free
    connection.close()
    assert advisory_lock_is_free("lost")
