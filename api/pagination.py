"""Pagination: every list is a cursor page ``{"next": url|null, "previous": url|null,
"results": [...]}``; ``?limit=`` (1-500, default 50). A larger limit is refused (400), not
clamped, so a script learns its mistake.

* ``CursorPage``: DRF's cursor pagination over a queryset, newest first (``-pk``);
  ``OldestFirstCursorPage`` for a timeline read oldest first.
* ``keyset_response``: the stock selectors' own keyset pages (``wms.pagination.KeysetPage``) (the balances and movements
  screens page the same way, so the API and the screens agree on order and cost); a cursor
  that does not read is 404 "Invalid cursor" on both kinds of list.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from wms.pagination import BACKWARD

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


def page_limit(request) -> int:
    raw = request.query_params.get("limit")
    if raw in (None, ""):
        return DEFAULT_LIMIT
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_LIMIT:
        raise ValidationError(
            {"limit": [_("Ask for 1 to %(max)s rows per page.") % {"max": MAX_LIMIT}]}
        )
    return int(raw)


class CursorPage(CursorPagination):
    ordering = "-pk"
    page_size = DEFAULT_LIMIT
    page_size_query_param = "limit"
    max_page_size = MAX_LIMIT

    def get_page_size(self, request) -> int:
        return page_limit(request)

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {"type": ["string", "null"], "format": "uri"},
                "previous": {"type": ["string", "null"], "format": "uri"},
                "results": schema,
            },
        }


class OldestFirstCursorPage(CursorPage):
    """A timeline read in the order it happened (a freeze's events, as its page shows them)."""

    ordering = "pk"


def keyset_response(request, page, data: list) -> Response:
    """The page in the lists' shape. A forward cursor the selector could not read (cut short,
    tampered) comes back as the first page (the screens' rule, ``wms.pagination``); the API
    refuses it as ``CursorPage`` does (404 "Invalid cursor"), so a client walking ``next``
    with a broken cursor stops instead of reading the first page for ever."""
    cursor = request.query_params.get("cursor") or ""
    if cursor and not cursor.startswith(BACKWARD) and page.is_first:
        raise NotFound(CursorPagination.invalid_cursor_message)
    url = request.build_absolute_uri()
    next_url = replace_query_param(url, "cursor", page.next_cursor) if page.next_cursor else None
    previous = None
    if getattr(page, "previous_cursor", None):
        previous = replace_query_param(url, "cursor", page.previous_cursor)
    elif not page.is_first:
        previous = remove_query_param(url, "cursor")
    return Response({"next": next_url, "previous": previous, "results": data})
