"""One error body for every API refusal::

    {"code": "insufficient_stock", "message": "Not enough stock of …", "fields": {"quantity": ["…"]}}

Built from the services' own domain errors (``wms.errors.DomainError``: the ledger's
``StockError`` family, the freezes' refusals, ``GoodsError``, ``WarehouseDomainError``, the
API's own) and from DRF's own exceptions (validation, authentication, permission, throttling,
malformed JSON). ``code`` is stable for programs; ``message`` is a translated sentence for people.
"""

from __future__ import annotations

import logging

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from allocation.exceptions import AllocationError, InvalidQuantity, InvalidState, WindowNotOpen
from allocation.exceptions import NotAllowed as AllocationNotAllowed
from api.exceptions import ApiDomainError
from channels_sync.exceptions import ChannelError, StaleBindings
from channels_sync.exceptions import NotAllowed as ChannelNotAllowed
from freezes.exceptions import AlreadyDecided, ApprovalRefused
from inventory.exceptions import (
    AlreadyPosted,
    DuplicateBarcode,
    DuplicateBatch,
    DuplicateSku,
    GoodsError,
    InsufficientStock,
    NotAllowed,
    StockError,
)
from warehouses.exceptions import BinsGuarded, DuplicateCode, WarehouseDomainError
from wms.errors import DomainError

logger = logging.getLogger(__name__)

#: Domain error classes and the HTTP status each means, checked in order (subclasses first).
STATUS_OF: list[tuple[type[Exception], int]] = [
    (ApprovalRefused, status.HTTP_403_FORBIDDEN),
    (AlreadyDecided, status.HTTP_409_CONFLICT),
    (AlreadyPosted, status.HTTP_409_CONFLICT),
    (InsufficientStock, status.HTTP_409_CONFLICT),
    (NotAllowed, status.HTTP_409_CONFLICT),
    (StockError, status.HTTP_400_BAD_REQUEST),
    (DuplicateSku, status.HTTP_409_CONFLICT),
    (DuplicateBarcode, status.HTTP_409_CONFLICT),
    (DuplicateBatch, status.HTTP_409_CONFLICT),
    (GoodsError, status.HTTP_400_BAD_REQUEST),
    (DuplicateCode, status.HTTP_409_CONFLICT),
    (BinsGuarded, status.HTTP_409_CONFLICT),
    (WarehouseDomainError, status.HTTP_400_BAD_REQUEST),
    (InvalidQuantity, status.HTTP_400_BAD_REQUEST),
    (AllocationNotAllowed, status.HTTP_409_CONFLICT),
    (WindowNotOpen, status.HTTP_409_CONFLICT),
    (InvalidState, status.HTTP_409_CONFLICT),
    (AllocationError, status.HTTP_400_BAD_REQUEST),
    (ChannelNotAllowed, status.HTTP_403_FORBIDDEN),
    (StaleBindings, status.HTTP_409_CONFLICT),
]
#: ``ChannelError`` (platform sync) predates ``DomainError`` but keeps its contract (a
#: translated ``message``, an optional ``field``): a refusal naming a field is 400, others 409.
DOMAIN_ERRORS = (DomainError, ChannelError)


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def _status_of(error: Exception) -> int:
    if isinstance(error, ApiDomainError):
        return error.status
    for cls, code in STATUS_OF:
        if isinstance(error, cls):
            return code
    if isinstance(error, ChannelError):
        return status.HTTP_400_BAD_REQUEST if error.field else status.HTTP_409_CONFLICT
    return getattr(error, "status", status.HTTP_400_BAD_REQUEST)


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"code": code, "message": str(message), "fields": fields or {}}


def _domain_fields(error: Exception) -> dict[str, list[str]]:
    message_dict = getattr(error, "message_dict", None)
    if isinstance(message_dict, dict):
        return {
            ("non_field_errors" if k == NON_FIELD_ERRORS else k): [str(m) for m in v]
            for k, v in message_dict.items()
            if k != NON_FIELD_ERRORS
        }
    field = getattr(error, "field", None)
    return {field: [str(error)]} if field else {}


def domain_error_response(error: Exception) -> Response:
    code = getattr(error, "code", None) or _snake(type(error).__name__)
    return Response(error_body(code, str(error), _domain_fields(error)), status=_status_of(error))


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested validation detail as ``{"lines.0.quantity": ["…"]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(_flatten(value, name))
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            out[prefix or "non_field_errors"] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                if item:
                    out.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
    else:
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


def exception_handler(exc, context):
    """DRF's ``EXCEPTION_HANDLER``: every refusal in the one body; nothing else changes."""
    if isinstance(exc, DOMAIN_ERRORS):
        return domain_error_response(exc)
    if isinstance(exc, DjangoValidationError):
        fields = _flatten(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
        message = next(iter(fields.values()))[0] if fields else _("The input is not valid.")
        return Response(error_body("invalid", message, fields), status=400)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found."))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: Django's 500 handling and logging
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        message = next(iter(fields.values()))[0] if fields else _("The input is not valid.")
        if list(fields) == ["non_field_errors"]:
            response.data = error_body("invalid", message, {})
        else:
            response.data = error_body(
                "invalid",
                _("Some fields are not valid: %(fields)s.") % {"fields": ", ".join(sorted(fields))},
                fields,
            )
        return response
    detail = getattr(exc, "detail", "")
    code = exc.get_codes() if hasattr(exc, "get_codes") else "error"
    if not isinstance(code, str):
        code = getattr(exc, "default_code", "error")
    response.data = error_body(
        code, str(detail) if not isinstance(detail, dict | list) else exc.default_detail
    )
    return response
