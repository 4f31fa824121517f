"""What every screen's view shares: the permission gate and the htmx-aware render."""

from collections.abc import Callable

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

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
