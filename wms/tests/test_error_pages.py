"""403 and 404 render inside the layout, say what happened in plain words and offer a way back,
in English and in Simplified Chinese (DEBUG is off under the test runner, as in production)."""

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _get(client, url, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client.get(url)


@pytest.mark.parametrize(
    ("language", "heading", "back"),
    [
        ("en", "This page does not exist", "Back to the start page"),
        ("zh-hans", "此页面不存在", "返回首页"),
    ],
)
def test_an_unknown_address_shows_the_404_page_in_the_layout(
    client, make_user, language, heading, back
):
    # given
    assert not settings.DEBUG
    client.force_login(make_user("staff"))

    # when
    response = _get(client, "/inventory/inbound/999999/", language)

    # then
    text = response.content.decode()
    assert response.status_code == 404
    assert heading in text and back in text
    assert f'href="{reverse("home")}"' in text
    assert 'class="topbar"' in text  # inside the layout, with the menu
    assert f'<html lang="{language}">' in text


@pytest.mark.parametrize(
    ("language", "heading", "back"),
    [
        ("en", "You may not open this page", "Back to the start page"),
        ("zh-hans", "您无权打开此页面", "返回首页"),
    ],
)
def test_a_refused_page_shows_the_403_page_in_the_layout(
    client, make_user, language, heading, back
):
    # given: a channel operator may not see freezes
    client.force_login(make_user("channel"))

    # when
    response = _get(client, reverse("freezes:freeze-list"), language)

    # then
    text = response.content.decode()
    assert response.status_code == 403
    assert heading in text and back in text
    assert 'class="topbar"' in text
    assert "Log in as another user" not in text and "以其他用户身份登录" not in text


def test_the_favicon_is_our_own_and_old_browsers_find_it(client):
    # when
    response = client.get("/favicon.ico")
    page = client.get(reverse("login")).content.decode()

    # then
    assert response.status_code == 301
    assert response["Location"].endswith("favicon.svg")
    assert 'rel="icon"' in page and "favicon.svg" in page
    assert finders.find("favicon.svg")
