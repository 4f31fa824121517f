import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from wms.demo import DEMO_USERS

pytestmark = pytest.mark.django_db

PROJECT_NAMESPACES = {"warehouses", "inventory", "freezes", "allocation", "channels_sync"}


def _project_urls():
    """Every URL of the project's own apps, with placeholder arguments for its converters."""
    for resolver in get_resolver().url_patterns:
        if not isinstance(resolver, URLResolver) or resolver.namespace not in PROJECT_NAMESPACES:
            continue
        for pattern in resolver.url_patterns:
            if not isinstance(pattern, URLPattern) or not pattern.name:
                continue
            kwargs = {}
            for name, converter in pattern.pattern.converters.items():
                kwargs[name] = "999999" if converter.regex.startswith("[0-9]") else "x"
            yield reverse(f"{resolver.namespace}:{pattern.name}", kwargs=kwargs)


def test_every_project_screen_asks_an_anonymous_visitor_to_log_in(client):
    urls = list(_project_urls())
    for url in urls:
        response = client.get(url)
        assert response.status_code in {302, 405}, url
        if response.status_code == 302:
            assert response["Location"].startswith(reverse("login")), url


def test_home_redirects_anonymous_visitors_to_login(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_login_with_a_demo_role_shows_the_home_page(client, make_user):
    # given
    make_user("staff")

    # when
    response = client.post(
        "/accounts/login/", {"username": "staff", "password": "pw-for-tests"}, follow=True
    )

    # then
    assert response.status_code == 200
    assert b"Welcome, staff" in response.content


def test_repeated_failed_logins_lock_the_account_even_for_the_right_password(client, make_user):
    # given
    make_user("staff")
    for _ in range(5):
        client.post("/accounts/login/", {"username": "staff", "password": "wrong"})

    # when
    response = client.post("/accounts/login/", {"username": "staff", "password": "pw-for-tests"})

    # then
    assert response.status_code == 429
    assert b"locked" in response.content
    assert "_auth_user_id" not in client.session


def test_forms_refuse_a_post_without_the_csrf_token(make_user):
    # given
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(make_user("staff"))

    # when
    response = csrf_client.post("/accounts/logout/")

    # then
    assert response.status_code == 403


def test_the_language_switch_shows_the_screens_in_simplified_chinese(client, make_user):
    # given
    client.force_login(make_user("staff"))

    # when
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    response = client.get("/")

    # then
    assert response.status_code == 200
    assert "欢迎" in response.content.decode()
    assert '<html lang="zh-hans">' in response.content.decode()


def test_demo_logins_cover_the_six_roles():
    assert {username for username, *_ in DEMO_USERS} == {
        "admin",
        "manager",
        "qc",
        "staff",
        "store",
        "channel",
    }


def _production_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return {**env, "DJANGO_SETTINGS_MODULE": "wms.settings", "DEBUG": "0"}


def test_check_deploy_is_clean_with_production_settings():
    # given: production settings from the environment, as README documents
    env = {
        **_production_env(),
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "wms.example.com",
    }

    # when
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    # then
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = {**_production_env(), "SECRET_KEY": ""}

    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
