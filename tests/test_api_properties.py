"""Property-based tests of the API against its own OpenAPI document.

schemathesis reads ``/api/openapi.json`` from the app (on a real index of the real
corpus) and generates requests for every operation: schema-valid ones, which must
be accepted, and schema-invalid ones, which must be refused with a 4xx.  Every
response must be documented (status code, content type, body schema) and none may
be a 5xx.  A second property sends arbitrary text in every query parameter.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import falcon
import falcon.testing
import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from config import Config
from search import SearchService
from search.dates import parse_bound

pytestmark = pytest.mark.slow  # schemathesis and hypothesis: thousands of generated requests

#: Every operation of the document (test_every_operation_is_tested keeps this true).
OPERATIONS = (
    "GET /api/search",
    "GET /api/events/{event_id}",
    "GET /api/events/{event_id}/related",
    "POST /api/related",
    "GET /api/suggest",
    "GET /api/stats",
    "GET /healthz",
    "GET /readyz",
    "GET /metrics",
    "GET /api/openapi.json",
    "GET /",
    "GET /static/{version}/{name}",
)

#: Examples per operation: half schema-valid, half not, in one fixed order.
EXAMPLES = 120
SETTINGS = hypothesis.settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

#: Refusals of schema-valid requests that break a rule no JSON schema can state:
#: the query language (README: leading wildcards, limits) and the paging window.
UNSTATABLE_RULES = {
    "wildcard_not_allowed",
    "too_many_terms",
    "too_many_expansions",
    "result_window_too_large",
}


@pytest.fixture(scope="module")
def answered() -> list[dict[str, Any]]:
    """The app's request log: one record per request it answered."""
    return []


@pytest.fixture(scope="module")
def app(config: Config, answered: list[dict[str, Any]]) -> Iterator[falcon.App[Any, Any]]:
    """The app on the corpus index.  Its search time limit is generous: these properties
    are about answers, and a loaded CI machine must not turn one into a 503."""
    patient = config.replace(search_timeout=120.0)
    service = SearchService(patient)
    yield create_app(patient, service, log=answered.append)
    service.close()


@pytest.fixture(scope="module")
def api_schema(app: falcon.App[Any, Any]) -> schemathesis.BaseSchema:
    # A refusal is any 4xx: 413 for a text over its maxLength is one too.
    config = schemathesis.Config.from_dict(
        {"checks": {"negative_data_rejection": {"expected-statuses": ["4xx"]}}}
    )
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app, config=config)


@pytest.fixture(scope="module")
def indexed_ids(app: falcon.App[Any, Any]) -> list[str]:
    """Ids of events in the index, so that event routes are also tried on real events."""
    result = falcon.testing.TestClient(app).simulate_get("/api/search", params={"size": "20"})
    ids = [item["id"] for item in result.json["results"]]
    assert len(ids) == 20
    return ids


def _reversed_dates(values: Any) -> bool:
    """Whether ``values`` hold a ``from`` after its ``to`` (both well formed)."""
    if not isinstance(values, dict) or "from" not in values or "to" not in values:
        return False
    try:
        first = parse_bound(str(values["from"]), end=False)
        last = parse_bound(str(values["to"]), end=True)
    except ValueError:
        return False
    return first > last


def schema_valid_is_accepted(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case[Any]
) -> bool | None:
    """positive_data_acceptance, except for the rules the schema cannot state."""
    if response.status_code == 400:
        if _reversed_dates(case.query) or _reversed_dates(case.body):
            return None
        if response.json()["error"]["code"] in UNSTATABLE_RULES:
            return None
    return positive_data_acceptance(ctx, response, case)


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    schema_valid_is_accepted,
]


def _labels(schema: schemathesis.BaseSchema) -> set[str]:
    return {f"{method.upper()} {path}" for path, methods in schema.items() for method in methods}


def test_every_operation_is_tested(api_schema: schemathesis.BaseSchema) -> None:
    assert _labels(api_schema) == set(OPERATIONS)


@pytest.mark.parametrize("label", OPERATIONS)
def test_operation_keeps_its_contract(
    api_schema: schemathesis.BaseSchema,
    indexed_ids: list[str],
    answered: list[dict[str, Any]],
    label: str,
) -> None:
    method, path = label.split(" ")
    operation = api_schema[path][method]
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )
    if "{event_id}" in path:
        cases |= st.sampled_from(indexed_ids).flatmap(
            lambda event_id: operation.as_strategy(path_parameters={"event_id": event_id})
        )
    before, sent = len(answered), 0

    @SETTINGS
    @given(case=cases)
    def conforms(case: schemathesis.Case[Any]) -> None:
        nonlocal sent
        sent += 1
        case.call_and_validate(checks=CHECKS)

    conforms()
    # Cases were generated, and every one was answered by the app under test.
    assert sent >= 1
    assert len(answered) - before == sent
    if "{event_id}" in path:  # real events were among them, and were found
        assert any(record["status"] == 200 for record in answered[before:])


# Values that once reached a parser unguarded, and the kinds of text around them.
AWKWARD = st.sampled_from(
    # superscript two, Arabic-Indic 5 and 2015: digits to str.isdigit, not to the schema
    [
        *("\u00b2", "\u0665", "\u0662\u0660\u0661\u0665", " 5", "5 ", "+5", "1e3", "0x10"),
        *("-0", "9" * 20, "", " ", "\t", "2015-02-30", "0000", "2015-13"),
    ]
)
QUERY_TEXT = st.one_of(
    AWKWARD,
    st.text(st.characters(exclude_categories=["Cs"]), max_size=30),
)
QUERY_ROUTES = ("/api/search", "/api/events/cep-56657/related", "/api/suggest")


@SETTINGS
@given(data=st.data())
def test_any_text_in_any_parameter_gets_an_answer_or_a_named_refusal(
    app: falcon.App[Any, Any], api_schema: schemathesis.BaseSchema, data: st.DataObject
) -> None:
    route = data.draw(st.sampled_from(QUERY_ROUTES), label="route")
    template = "/api/events/{event_id}/related" if "/events/" in route else route
    names = [p["name"] for p in api_schema.raw_schema["paths"][template]["get"]["parameters"]]
    name = data.draw(st.sampled_from([n for n in names if n != "event_id"]), label="parameter")
    value = data.draw(QUERY_TEXT, label="value")
    result = falcon.testing.TestClient(app).simulate_get(route, params={name: value})
    assert result.status_code in (200, 400), (name, value, result.text)
    if result.status_code == 400:
        error = result.json["error"]
        assert error["parameter"] == name and error["message"], (name, value, error)
