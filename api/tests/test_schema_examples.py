"""The OpenAPI schema documents every operation: a description, and an example (hand-written
or built from the success response's schema) that conforms to its schema."""

from __future__ import annotations

import jsonschema
from rest_framework.test import APIClient


def test_every_operation_has_a_description_and_a_conforming_example(db):
    schema = APIClient().get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]
    problems = []

    def conforms(part: dict, value, label: str) -> None:
        try:
            jsonschema.Draft202012Validator(
                {**part, "components": {"schemas": components}}
            ).validate(value)
        except jsonschema.ValidationError as error:
            problems.append(f"{label}: {error.message}")

    operations = 0
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            operations += 1
            label = f"{method.upper()} {path}"
            if not operation.get("description"):
                problems.append(f"{label}: no description")
            examples = 0
            for content in operation.get("requestBody", {}).get("content", {}).values():
                for name, example in (content.get("examples") or {}).items():
                    examples += 1
                    conforms(content["schema"], example["value"], f"{label} request {name}")
            for code, response in operation.get("responses", {}).items():
                if not str(code).startswith("2"):
                    continue
                for content in response.get("content", {}).values():
                    for name, example in (content.get("examples") or {}).items():
                        examples += 1
                        conforms(content["schema"], example["value"], f"{label} {code} {name}")
            examples += sum(1 for p in operation.get("parameters", []) if "example" in p)
            if not examples:
                problems.append(f"{label}: no example")
    assert operations > 100
    assert not problems, "\n".join(problems)
