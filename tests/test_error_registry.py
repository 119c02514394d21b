"""Error codes come from one registry, which the README and the OpenAPI document both
state in full, and the code raises no code the registry does not hold."""

from __future__ import annotations

import ast
import re
from typing import Any

import falcon.testing

from api.app import create_app
from api.errors import ERRORS
from config import Config
from search import BadRequest
from tests.corpus import ROOT

REGISTRY = {e.code: (e.status, e.meaning) for e in ERRORS}
# Codes given to errors Falcon raises itself (api/errors.py maps them by status).
FALCON_CODES = {
    "bad_request",
    "not_found",
    "method_not_allowed",
    "method_not_implemented",
    "internal_error",
}
# The callables whose first argument is an error code.
RAISERS = {"BadRequest", "ApiError", "error_body", "Refusal"}


def _readme_table() -> dict[str, tuple[int, str]]:
    rows = re.findall(
        r"^\| `([a-z_]+)` \| (\d{3}) \| (.+?) \|$",
        (ROOT / "README.md").read_text(),
        flags=re.MULTILINE,
    )
    return {code: (int(status), meaning) for code, status, meaning in rows}


def _codes_in_source() -> dict[str, list[str]]:
    """Every literal code passed to a raiser in the product code, with where."""
    found: dict[str, list[str]] = {}
    for package in ("api", "search", "indexer", "config"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name not in RAISERS or not node.args:
                    continue
                first = node.args[0]
                if path == ROOT / "api" / "errors.py" and not isinstance(first, ast.Constant):
                    continue  # the registry's module relays codes raised elsewhere
                assert isinstance(first, ast.Constant) and isinstance(first.value, str), (
                    f"{path}:{node.lineno}: an error code must be a literal, to be checked here"
                )
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                found.setdefault(first.value, []).append(where)
    return found


def test_codes_are_unique_with_a_status_and_a_meaning() -> None:
    assert len(REGISTRY) == len(ERRORS)
    for error in ERRORS:
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", error.code)
        assert 400 <= error.status < 600
        assert error.meaning.endswith(".")


def test_the_readme_lists_every_code_with_its_status_and_meaning() -> None:
    assert _readme_table() == REGISTRY


def test_the_openapi_document_lists_every_code(client: falcon.testing.TestClient) -> None:
    document: dict[str, Any] = client.simulate_get("/api/openapi.json").json
    schema = document["components"]["schemas"]["ErrorCode"]
    documented = {item["const"]: item["description"] for item in schema["oneOf"]}
    assert documented == {
        code: f"{status}: {meaning}" for code, (status, meaning) in REGISTRY.items()
    }
    # Every error response of every operation uses the one shape.
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    content = response["content"]["application/json"]["schema"]
                    assert content == {"$ref": "#/components/schemas/Error"}, (path, method)
                    assert int(status) in {s for s, _ in REGISTRY.values()}, (path, status)


def test_the_code_raises_only_registered_codes_and_every_one_is_raised() -> None:
    raised = _codes_in_source()
    unregistered = {code: where for code, where in raised.items() if code not in REGISTRY}
    assert not unregistered
    assert set(REGISTRY) == set(raised) | FALCON_CODES


def test_an_unregistered_code_is_a_logged_500_not_a_crash(config: Config) -> None:
    class Odd:
        def stats(self) -> dict[str, object]:
            raise BadRequest("made_up_code", "odd")

    app = create_app(config, service=Odd())  # type: ignore[arg-type]
    result = falcon.testing.TestClient(app).simulate_get("/api/stats")
    assert result.status_code == 500
    assert result.json["error"]["code"] == "internal_error"
