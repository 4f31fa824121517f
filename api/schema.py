"""OpenAPI post-processing: the one error body (``Error``) and the refusals every operation
can answer (400, 401, 403, 404, 409, 429), each with an example, added to every operation."""

from __future__ import annotations

ERROR_SCHEMA = {
    "type": "object",
    "required": ["code", "message", "fields"],
    "properties": {
        "code": {"type": "string", "description": "Stable, for programs."},
        "message": {"type": "string", "description": "A translated sentence, for people."},
        "fields": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": "Field name -> its messages (nested fields dotted: lines.0.quantity).",
        },
    },
}

ERRORS = {
    "400": (
        "The input is not valid; nothing was written.",
        {
            "code": "invalid",
            "message": "Some fields are not valid: quantity.",
            "fields": {"quantity": ["Quantities must be whole numbers greater than zero."]},
        },
    ),
    "401": (
        "No valid token (or session).",
        {
            "code": "not_authenticated",
            "message": "Authentication credentials were not provided.",
            "fields": {},
        },
    ),
    "403": (
        "The user lacks the permission the matching screen needs.",
        {
            "code": "permission_denied",
            "message": "You do not have permission to perform this action.",
            "fields": {},
        },
    ),
    "404": (
        "No such object (or not yours to see).",
        {"code": "not_found", "message": "Not found.", "fields": {}},
    ),
    "409": (
        "Refused in this state: not enough stock, already posted, an Idempotency-Key reused "
        "with another body; nothing was written.",
        {
            "code": "insufficient_stock",
            "message": "Not enough stock of LIP-001: 5 requested, 2 available (short by 3).",
            "fields": {},
        },
    ),
    "429": (
        "Too many requests for this token; retry after the Retry-After seconds.",
        {"code": "throttled", "message": "Request was throttled.", "fields": {}},
    ),
}


def postprocess(result, generator, request, public):
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for code, (description, example) in ERRORS.items():
                if code in ("400", "409") and method == "get" and code == "409":
                    continue
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {
                            "application/json": {
                                "schema": ref,
                                "examples": {code: {"value": example}},
                            }
                        },
                    },
                )
    return result
