"""Keyset pagination: the one way every list pages (no OFFSET, no Django ``Paginator``).

A page is found by the sort key of the row it starts after, carried in an opaque ``cursor``
query parameter, so a deep page costs what the first one does (OFFSET reads and drops every
earlier row). Use it from a selector::

    page = keyset_page(
        Bin.objects.filter(...).select_related("warehouse", "zone"),
        order=("warehouse__code", "code", "pk"),
        cursor=request.GET.get("cursor"),
        per_page=50,
    )

and render it with ``{% include "partials/pagination.html" with target="results" %}`` (Previous,
First page and Next links that keep the other query parameters).

* ``order``: the sort, ``-`` for descending (the queryset's own ``order_by`` when omitted); it
  must end with a unique column (``pk``) so the key is unique; every column must be NOT NULL (a
  NULL never compares). Each direction may differ.
* ``cursor``: ``next_cursor`` or ``previous_cursor`` of a page; anything that does not parse (a
  tampered or stale cursor) reads as the first page, never as an error.
* ``types``: the Python types of the key parts (``str``, ``int``, ``datetime.datetime``,
  ``datetime.date``); by default taken from the model fields of ``order``.
* ``key_of``: how to read the key from a row, for ``values()``/``values_list()`` querysets;
  model instances are read through ``order`` by default.
* ``with_count=True`` adds ``page.count``, one ``COUNT(*)`` of the whole filtered list (for a
  "123 bins" line); leave it off on lists that can grow without bound.

``keyset_rows(queryset, ...)`` walks every page and yields the rows (exports: constant memory,
no server-side cursor held open while a response streams).

Queries: one per page (two with ``with_count``). ``encode_cursor``/``decode_cursor`` are the
cursor format (base64url of a JSON list) for code that builds a cursor by itself (benchmarks).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import reduce

from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_date, parse_datetime

#: Prefix of a cursor that pages backwards (``previous_cursor``); not in base64url's alphabet.
BACKWARD = "~"


@dataclass
class KeysetPage:
    """One page: ``rows`` in the list's order, the cursors of the pages around it, and
    ``count`` (the whole list's length) when asked for. ``extra`` carries what a selector adds
    (totals shown above the rows)."""

    rows: list
    next_cursor: str | None = None
    previous_cursor: str | None = None
    is_first: bool = True
    count: int | None = None
    extra: dict = field(default_factory=dict)

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_previous(self) -> bool:
        return self.previous_cursor is not None

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous or not self.is_first

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def encode_cursor(key: Sequence) -> str:
    """The cursor of a forward page starting after ``key`` (dates and times as ISO text)."""
    values = [v.isoformat() if isinstance(v, dt.date | dt.datetime) else v for v in key]
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str | None, types: Sequence[type]) -> tuple | None:
    """The key a cursor carries, converted to ``types``; None for anything that does not parse
    (wrong length, wrong type, an impossible date, an integer beyond a bigint)."""
    if not text:
        return None
    try:
        padded = text + "=" * (-len(text) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != len(types):
            return None
        key = tuple(_convert(kind, value) for kind, value in zip(types, values, strict=True))
    except (ValueError, TypeError, OverflowError, binascii.Error, json.JSONDecodeError):
        return None
    if any(part is None for part in key):
        return None
    if any(isinstance(part, int) and not -(2**63) <= part < 2**63 for part in key):
        return None
    return key


def _convert(kind: type, value: object) -> object:
    if kind is dt.datetime:
        return parse_datetime(str(value))
    if kind is dt.date:
        return parse_date(str(value))
    if kind is int and (isinstance(value, bool) or not isinstance(value, int | str)):
        raise TypeError(value)
    if kind is str and not isinstance(value, str):
        raise TypeError(value)
    return kind(value)


def keyset_page(
    queryset: QuerySet,
    *,
    order: Sequence[str] | None = None,
    cursor: str | None = None,
    per_page: int = 50,
    types: Sequence[type] | None = None,
    key_of: Callable[[object], tuple] | None = None,
    with_count: bool = False,
) -> KeysetPage:
    """One page of ``queryset`` sorted by ``order`` (see the module docstring); without
    ``order``, by the queryset's own ``order_by(...)``."""
    order = tuple(order if order is not None else queryset.query.order_by)
    if not order:
        raise ValueError("keyset_page needs an order: pass order= or an ordered queryset")
    types = tuple(types) if types is not None else _types_of(queryset, order)
    key_of = key_of or _attribute_key(order)
    backward = bool(cursor) and cursor.startswith(BACKWARD)
    key = decode_cursor(cursor[1:] if backward else cursor, types)
    if key is None:
        backward = False
    rows = queryset
    if key is not None:
        rows = rows.filter(_beyond(order, key, after=not backward))
    sort = [_flip(name) for name in order] if backward else list(order)
    found = list(rows.order_by(*sort)[: per_page + 1])
    more = len(found) > per_page
    found = found[:per_page]
    if backward and not more:
        # Back at the start: show the full first page, as a fresh visit would.
        return keyset_page(
            queryset,
            order=order,
            per_page=per_page,
            types=types,
            key_of=key_of,
            with_count=with_count,
        )
    if backward:
        found.reverse()
    page = KeysetPage(rows=found, is_first=key is None)
    if found and (more or backward):
        page.next_cursor = encode_cursor(key_of(found[-1]))
    if found and key is not None:
        page.previous_cursor = BACKWARD + encode_cursor(key_of(found[0]))
    if with_count:
        page.count = queryset.count()
    return page


def keyset_rows(
    queryset: QuerySet,
    *,
    order: Sequence[str] | None = None,
    per_page: int = 2000,
    types: Sequence[type] | None = None,
    key_of: Callable[[object], tuple] | None = None,
) -> Iterator:
    """Every row of ``queryset`` in ``order``, read ``per_page`` rows (one query) at a time."""
    cursor = None
    while True:
        page = keyset_page(
            queryset, order=order, cursor=cursor, per_page=per_page, types=types, key_of=key_of
        )
        yield from page.rows
        if not page.next_cursor:
            return
        cursor = page.next_cursor


def _beyond(order: tuple[str, ...], key: tuple, *, after: bool) -> Q:
    """Rows strictly after (or before) ``key`` in ``order``, written as ``a >= k AND NOT (a = k
    AND NOT <rest beyond>)`` so the first column is a range an index can scan."""
    name, value = order[0], key[0]
    column = name.lstrip("-")
    ascending = (not name.startswith("-")) == after
    bound = f"{column}__{'gt' if ascending else 'lt'}"
    if len(order) == 1:
        return Q(**{bound: value})
    inclusive = f"{column}__{'gte' if ascending else 'lte'}"
    rest = _beyond(order[1:], key[1:], after=after)
    return Q(**{inclusive: value}) & ~(Q(**{column: value}) & ~rest)


def _flip(name: str) -> str:
    return name[1:] if name.startswith("-") else f"-{name}"


def _attribute_key(order: tuple[str, ...]) -> Callable[[object], tuple]:
    paths = [name.lstrip("-").split("__") for name in order]

    def key_of(row: object) -> tuple:
        return tuple(reduce(getattr, path, row) for path in paths)

    return key_of


def _types_of(queryset: QuerySet, order: tuple[str, ...]) -> tuple[type, ...]:
    from django.db import models

    out = []
    for name in order:
        model = queryset.model
        target = None
        for part in name.lstrip("-").split("__"):
            target = model._meta.pk if part == "pk" else model._meta.get_field(part)
            if target.is_relation:
                model = target.related_model
        if isinstance(target, models.DateTimeField):
            out.append(dt.datetime)
        elif isinstance(target, models.DateField):
            out.append(dt.date)
        elif isinstance(target, models.IntegerField | models.AutoField | models.ForeignKey):
            out.append(int)
        else:
            out.append(str)
    return tuple(out)
