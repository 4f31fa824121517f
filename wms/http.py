"""What every screen's view shares: the permission gate and the htmx-aware render, and the
middleware that sends an htmx request whose session expired to the login page."""

from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render, resolve_url
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect

View = Callable[..., HttpResponse]


def permission(*perms: str) -> Callable[[View], View]:
    """Login first (anonymous -> login page), then every permission in ``perms`` (403 without
    one). Objects outside the user's scope are the view's business: 404."""

    def decorator(view: View) -> View:
        return login_required(permission_required(perms, raise_exception=True)(view))

    return decorator


def respond(
    request: HttpRequest,
    template: str,
    context: dict,
    *,
    partial: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """The full page, or only its ``{% partialdef partial %}`` for an htmx request; responses
    vary on ``HX-Request`` so caches keep the two apart. Invalid forms pass ``status=422``."""
    name = f"{template}#{partial}" if partial and request.htmx else template
    response = render(request, name, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


def parse_id(value: object) -> int | None:
    """A database id typed into a URL or a search box: ASCII digits that fit a bigint, else
    None (so a tampered or absurd value reads as "none", never as a 500)."""
    text = str(value or "").strip()
    if not text or len(text) > 18 or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


class HtmxLoginRedirectMiddleware:
    """An htmx request (a poll, a partial, a form) whose session expired is redirected by the
    login gate to the login page; htmx would follow that and swap the login form into the part
    of the page it refreshes. Instead the whole page goes to the login page (``HX-Redirect``),
    which comes back to the page the user was on. Other responses pass unchanged."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not getattr(request, "htmx", False) or response.status_code not in (301, 302):
            return response
        login = resolve_url(settings.LOGIN_URL)
        if urlsplit(response.get("Location", "")).path != login:
            return response
        page = request.htmx.current_url_abs_path or "/"
        if not url_has_allowed_host_and_scheme(page, allowed_hosts=None):
            page = "/"
        return HttpResponseClientRedirect(f"{login}?{urlencode({'next': page})}")
