"""Schemathesis fuzzes every operation of the generated schema over HTTP (live server) with an
administrator's token: no 500s, and every response (status, headers, body) conforms.

Operations are walked one by one with their Hypothesis strategies (schemathesis' pytest
plugin's lazy loader does not run on this pytest); a failure names the operation and the
request that broke it. Not checked: "positive data acceptance": a schema-valid request may
name a goods or warehouse id that does not exist, which the API refuses (400/404) by design."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings_of
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api import tokens

EXAMPLES_PER_OPERATION = 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_api_conforms_to_its_schema(live_server, make_user, settings):
    # given some data and an administrator's token (every operation is allowed)
    from api.tests.conftest import World

    settings.WMS_API_RATE = None  # no throttling while fuzzing
    World()
    _token, raw = tokens.token_create(user=make_user("admin"), name="fuzz")
    headers = {"Authorization": f"Bearer {raw}"}
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/?format=json")
    failures: list[str] = []
    operations = 0
    # when each operation is fuzzed
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @hypothesis_settings
        def fuzz(case) -> None:
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        try:
            fuzz()
        except Exception as error:  # noqa: BLE001 - collect every operation's failure
            failures.append(f"{operation.label}: {error}")
    # then none answered a 500 or off-schema
    assert operations > 50
    assert not failures, "\n\n".join(failures)


hypothesis_settings = hypothesis_settings_of(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
