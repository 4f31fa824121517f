"""``Idempotency-Key`` for writes that post stock.

The same user sending the same key with the same request gets the first answer again (with
``Idempotent-Replayed: true``) and nothing is posted twice; the same key with another request
(method, path or body) is 409 ``idempotency_conflict``. Race-safe without a lock of our own:
the record is inserted first, in the posting's own transaction, under a unique (user, key)
constraint. A concurrent request with the same key blocks on that insert until the first
transaction ends: when it committed, the second reads the stored answer; when it rolled back (a
refusal), nothing was kept and the second runs as if first. Refusals (4xx) are not stored, so a
client may fix the cause (receive the missing stock) and retry with the same key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response

from api.exceptions import IdempotencyConflict
from api.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    name=HEADER,
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Any unique string (a UUID) up to 255 characters. Sent again with the same body, the "
        "first answer comes back and nothing is posted twice; with another body, 409."
    ),
)


class _Rollback(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def request_hash(request) -> str:
    body = json.dumps(request.data, sort_keys=True, cls=DjangoJSONEncoder, default=str)
    raw = f"{request.method}\n{request.path}\n{body}"
    return hashlib.sha256(raw.encode()).hexdigest()


def idempotent(request, run: Callable[[], Response]) -> Response:
    """Run ``run()`` (which posts and returns the response) at most once per key."""
    key = request.headers.get(HEADER)
    if key is None:
        return run()
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise IdempotencyConflict(
            _("The Idempotency-Key must be 1 to 255 printable ASCII characters."),
            code="invalid_idempotency_key",
        ).with_status(400)
    digest = request_hash(request)
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        user=request.user,
                        key=key,
                        request_hash=digest,
                        method=request.method,
                        path=request.path[:255],
                    )
            except IntegrityError:
                record = None
            if record is not None:
                response = run()
                if response.status_code >= 400:
                    raise _Rollback(response)
                body = json.loads(json.dumps(response.data, cls=DjangoJSONEncoder))
                IdempotencyRecord.objects.filter(pk=record.pk).update(
                    status_code=response.status_code, response_body=body
                )
                return response
    except _Rollback as rollback:
        return rollback.response
    stored = IdempotencyRecord.objects.get(user=request.user, key=key)
    if stored.request_hash != digest:
        raise IdempotencyConflict(
            _(
                "This Idempotency-Key was used for another request; nothing was posted. "
                "Use a new key for a new request."
            )
        )
    response = Response(stored.response_body, status=stored.status_code or 200)
    response["Idempotent-Replayed"] = "true"
    return response
