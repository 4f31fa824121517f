"""An htmx request whose session has expired (a 5-second poll, a partial, a form) sends the
whole page to the login page instead of swapping the login form into the part it refreshes."""

import pytest

pytestmark = pytest.mark.django_db

PAGE = "http://testserver/allocation/grab/"


def test_an_expired_session_polling_is_sent_to_the_login_page_as_a_whole_page(client):
    response = client.get(
        "/allocation/grab/", HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=PAGE + "?store=3"
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/accounts/login/?next=%2Fallocation%2Fgrab%2F%3Fstore%3D3"
    assert b"<form" not in response.content


def test_a_page_from_elsewhere_comes_back_to_the_home_page(client):
    response = client.get(
        "/allocation/grab/", HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="https://evil.example/x"
    )
    assert response["HX-Redirect"] == "/accounts/login/?next=%2F"


def test_a_plain_request_is_redirected_as_before(client):
    response = client.get("/allocation/grab/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert "HX-Redirect" not in response


def test_a_signed_in_poll_is_answered_as_usual(client, make_user):
    client.force_login(make_user("store"))
    response = client.get("/allocation/grab/", HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=PAGE)
    assert response.status_code == 200
    assert "HX-Redirect" not in response
