"""OpenAPI post-processing: the one error body (``Error``) and the refusals every operation
can answer (400, 401, 403, 404, 409, 429; 415 where a body is sent), each with an example,
added to every operation; and an example for every operation that has no hand-written one,
built from its success response's schema (its own example values, the first enum value, a
plausible value per format), so each operation shows a complete answer."""

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
#: Refusals only an operation that reads a body can answer.
BODY_ERRORS = {
    "415": (
        "The body is not JSON (send Content-Type: application/json); nothing was written.",
        {
            "code": "unsupported_media_type",
            "message": 'Unsupported media type "application/x-www-form-urlencoded" in request.',
            "fields": {},
        },
    ),
}


SAMPLE_STRINGS = {
    "date-time": "2026-12-01T09:30:00+11:00",
    "date": "2026-12-01",
    "uri": "https://wms.example/api/v1/goods/?cursor=cD0yMDI2",
    "uuid": "6f1c2a58-3c5e-4c1e-9a57-2d1c1b0e9f10",
    "email": "erp@example.com",
    "decimal": "12.50",
}
SAMPLE_NAMES = {
    "sku": "LIP-001",
    "code": "SYD",
    "name": "Velvet lipstick, ruby",
    "ref": "RO000012",
    "status": "open",
    "message": "",
    "note": "",
    "country": "AU",
    "currency": "AUD",
    "postcode": "2000",
}


def _sample(schema: dict, components: dict, name: str = "", depth: int = 0):
    """A plausible value conforming to ``schema`` (refs resolved, nullable picks the value)."""
    if depth > 8:
        return None
    if "$ref" in schema:
        target = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
        return _sample(target, components, name, depth + 1)
    for key in ("allOf", "oneOf", "anyOf"):
        if schema.get(key):
            options = [o for o in schema[key] if o.get("type") != "null"] or schema[key]
            return _sample(options[0], components, name, depth + 1)
    if "example" in schema:
        return schema["example"]
    if schema.get("enum"):
        values = [v for v in schema["enum"] if v not in (None, "")]
        return values[0] if values else schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        return {
            key: _sample(value, components, key, depth + 1)
            for key, value in schema.get("properties", {}).items()
        }
    if kind == "array":
        return [_sample(schema.get("items", {}), components, name, depth + 1)]
    if kind == "integer":
        return max(1, schema.get("minimum", 1)) if name != "on_hand_delta" else -2
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    if kind == "string":
        if schema.get("format") in SAMPLE_STRINGS:
            return SAMPLE_STRINGS[schema["format"]]
        if schema.get("pattern") and "\\d" in schema["pattern"]:
            return "12.50"
        text = SAMPLE_NAMES.get(name, name.replace("_", " ") or "text")
        return text[: schema["maxLength"]] if "maxLength" in schema else text
    return None


def _has_example(operation: dict) -> bool:
    contents = list(operation.get("requestBody", {}).get("content", {}).values())
    for code, response in operation.get("responses", {}).items():
        if str(code).startswith("2"):
            contents += list(response.get("content", {}).values())
    return any(c.get("examples") or "example" in c for c in contents)


def add_missing_examples(result: dict) -> None:
    components = result.get("components", {}).get("schemas", {})
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            if _has_example(operation):
                continue
            for code, response in sorted(operation.get("responses", {}).items()):
                content = response.get("content", {}).get("application/json")
                if str(code).startswith("2") and content and content.get("schema"):
                    content["examples"] = {
                        "Example": {"value": _sample(content["schema"], components)}
                    }
                    break
            else:
                for parameter in operation.get("parameters", []):
                    if parameter.get("in") == "path":
                        parameter.setdefault("example", 12)


def postprocess(result, generator, request, public):
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            errors = {**ERRORS, **(BODY_ERRORS if method in ("post", "put", "patch") else {})}
            for code, (description, example) in errors.items():
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
    add_missing_examples(result)
    return result
