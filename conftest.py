"""Suite-wide test plumbing: real-service markers and the headless Chromium harness.

Tests marked ``postgres``, ``redis`` or ``browser`` skip with a reason when the service is not
there, and fail instead when WMS_REQUIRE_SERVICES=1 (CI), so CI cannot pass without them.
"""

import os
import shutil
from functools import cache
from pathlib import Path

import pytest

REQUIRE_SERVICES = os.environ.get("WMS_REQUIRE_SERVICES") == "1"
CHROMIUM = os.environ.get("WMS_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@cache
def postgres_status() -> tuple[bool, str]:
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        return False, "needs PostgreSQL: set DATABASE_URL=postgres://..."
    return True, ""


@cache
def redis_status() -> tuple[bool, str]:
    from django.conf import settings

    url = settings.CELERY_BROKER_URL
    if not url.startswith("redis://"):
        return False, "needs Redis: set CELERY_BROKER_URL=redis://..."
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        return False, f"Redis at {url} does not answer: {exc}"
    return True, ""


@cache
def browser_status() -> tuple[bool, str]:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return False, f"needs Debian's Chromium at {CHROMIUM} (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False, "needs the playwright package"
    return True, ""


SERVICE_CHECKS = {"postgres": postgres_status, "redis": redis_status, "browser": browser_status}


def pytest_sessionstart(session) -> None:
    if not REQUIRE_SERVICES:
        return
    for name, check in SERVICE_CHECKS.items():
        ok, reason = check()
        if not ok:
            raise pytest.UsageError(f"WMS_REQUIRE_SERVICES=1 but {name} is missing: {reason}")


def pytest_runtest_setup(item) -> None:
    for name, check in SERVICE_CHECKS.items():
        if item.get_closest_marker(name) is None:
            continue
        ok, reason = check()
        if not ok:
            if REQUIRE_SERVICES:
                pytest.fail(f"required service missing: {reason}", pytrace=False)
            pytest.skip(reason)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(autouse=True)
def only_the_ledger_writes_stock():
    """The only-writer rule for every test (``inventory/writer_guard.py``): any write to the
    balance or movement tables from outside ``inventory.ledger``, on any connection in any
    thread, raises ``LedgerBypass``; a test whose code swallowed that exception fails here."""
    from inventory import writer_guard

    writer_guard.install()
    writer_guard.take_violations()
    yield
    violations = writer_guard.take_violations()
    if violations:
        pytest.fail(
            "wrote balances or movements outside the ledger:\n" + "\n".join(violations),
            pytrace=False,
        )


@pytest.fixture(autouse=True)
def fresh_webhook_snapshot():
    """Each test sees the webhook subscriptions it made: the per-process "does anyone listen"
    snapshot (``api.webhooks.outbox``) would otherwise outlive the previous test's rollback."""
    from api.webhooks import outbox

    outbox.forget_snapshot()
    yield
    outbox.forget_snapshot()


@pytest.fixture(scope="session")
def chromium():
    """One headless Debian Chromium per test process, driven by Playwright (no browser download)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(request, chromium, live_server):
    """A fresh browser page against ``live_server``; a screenshot is saved when the test fails."""
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(15_000)
    browser_page = context.new_page()
    yield browser_page
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        browser_page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def browser_login(browser_page, username: str, password: str) -> None:
    """Log in through the real login form, as a person would."""
    browser_page.goto("/accounts/login/")
    browser_page.fill("#id_username", username)
    browser_page.fill("#id_password", password)
    browser_page.click("button[type=submit]")
    browser_page.wait_for_url(lambda url: "/accounts/login/" not in url)


@pytest.fixture
def make_user(db, django_user_model):
    """``make_user("staff")`` creates a user holding the demo role of that name.

    Roles are synced first: a transactional test (live_server) flushes the groups that the
    data migrations created.
    """
    from django.apps import apps
    from django.contrib.auth.models import Group

    from wms.demo import DEMO_USERS
    from wms.roles import sync_roles

    sync_roles(apps)
    roles = {name: (group, is_staff, is_super) for name, group, is_staff, is_super in DEMO_USERS}

    def _make(role: str, username: str | None = None):
        group, is_staff, is_super = roles[role]
        user = django_user_model.objects.create_user(
            username=username or role,
            password=TEST_PASSWORD,
            is_staff=is_staff,
            is_superuser=is_super,
        )
        user.groups.add(Group.objects.get(name=group))
        return user

    return _make


TEST_PASSWORD = "pw-for-tests"  # noqa: S105


@pytest.fixture
def login_as(page, make_user):
    """``login_as("staff")`` creates a user in that demo role and logs in through the form."""

    def _login(role: str):
        user = make_user(role)
        browser_login(page, user.username, TEST_PASSWORD)
        return user

    return _login


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request in Chinese (LocaleMiddleware
    activates the language for the thread and never deactivates it) must not leak into the
    messages the next test on the same worker asserts."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def background_seen_running():
    """Pages show the worker-health banner from a status each process keeps a few seconds
    (``wms.health.background_status_cached``). Each test starts with it pinned to "running",
    so pages make no heartbeat query a test would have to count and no banner appears; a test
    about the banner records a heartbeat (``heartbeat_record`` drops the pin) or calls
    ``health.forget_background_status()``."""
    from wms import health

    health.remember_background_status(health.BackgroundStatus(ok=True, seen_at=None), seconds=3600)
    yield
    health.forget_background_status()
