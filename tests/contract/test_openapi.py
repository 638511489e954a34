"""The API's contract: the OpenAPI document is served openly, names every route the template routes,
documents errors in our shape and its query parameters, and matches the committed openapi.json."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from functions.api import openapi as committed
from local.infra import functions, load_template
from tests.conftest import ROOT
from tests.helpers.events import http_event

pytestmark = pytest.mark.contract

ERRORS = {"400", "401", "403", "404", "409", "415", "422", "429"}
DOCS_ROUTES = {("get", "/openapi.json"), ("get", "/v1/openapi.json"), ("get", "/docs")}
OPEN_ROUTES = {
    ("get", "/webhook"),
    ("post", "/webhook"),
    ("get", "/r/{}"),
    ("head", "/r/{}"),
    ("post", "/v1/events"),
    ("get", "/v1/coupons/{}"),
    *DOCS_ROUTES,
}


def document() -> dict[str, Any]:
    from functions.api.app import document

    return document()


def operations(doc: dict[str, Any]):
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                yield method, path, operation


def shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def template_routes() -> set[tuple[str, str]]:
    routes = set()
    for spec in functions(load_template()).values():
        for event in spec["events"].values():
            if event.get("Type") == "HttpApi":
                props = event["Properties"]
                routes.add((str(props["Method"]).lower(), shape(str(props["Path"]))))
    return routes


def test_the_committed_document_is_the_one_the_routes_make():
    assert committed.main(["--check"]) == 0, "run `make openapi` and commit openapi.json"


def test_the_drift_check_fails_on_a_stale_document(tmp_path):
    stale = json.loads((ROOT / "openapi.json").read_text())
    stale["paths"].pop("/v1/customers")
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(stale, indent=2) + "\n")
    assert committed.main(["--check", "--path", str(path)]) == 1
    assert committed.main(["--check", "--path", str(tmp_path / "missing.json")]) == 1


def test_every_routed_path_is_documented_and_every_documented_path_is_routed():
    documented = {(m, shape(p)) for m, p, _ in operations(document())}
    assert documented == template_routes()


def test_a_bearer_scheme_guards_everything_but_the_open_routes():
    doc = document()
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": doc["components"]["securitySchemes"]["bearer"]["description"],
    }
    assert doc["security"] == [{"bearer": []}]
    open_ = {(m, shape(p)) for m, p, op in operations(doc) if op.get("security") == []}
    assert open_ == OPEN_ROUTES
    public_in_template = {
        (str(e["Properties"]["Method"]).lower(), shape(str(e["Properties"]["Path"])))
        for spec in functions(load_template()).values()
        for e in spec["events"].values()
        if e.get("Type") == "HttpApi" and (e["Properties"].get("Auth") or {}).get("Authorizer") == "NONE"
    }
    assert public_in_template == OPEN_ROUTES


def test_every_api_operation_documents_its_errors_in_our_shape():
    doc = document()
    error = doc["components"]["schemas"]["Error"]
    assert error["required"] == ["error"] and error["properties"]["error"]["required"] == ["code", "message"]
    for method, path, operation in operations(doc):
        if path.startswith("/v1/") and (method, path) not in DOCS_ROUTES:
            responses = operation["responses"]
            assert ERRORS <= set(responses), f"{method} {path}"
            schema = responses["422"]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}, f"{method} {path}"
            assert any(s.startswith("2") for s in responses), f"{method} {path} has no success response"
    assert "HTTPValidationError" not in doc["components"]["schemas"]


def test_query_parameters_and_raw_bodies_are_documented():
    paths = document()["paths"]

    def names(method: str, path: str) -> set[str]:
        return {p["name"] for p in paths[path][method].get("parameters", []) if p["in"] == "query"}

    assert names("get", "/v1/tags/log") == {"tag", "customer", "since", "until", "limit", "cursor"}
    assert names("get", "/v1/alerts") == {"status", "limit"}
    assert names("get", "/v1/metrics/daily") == {"from", "to"}
    assert names("get", "/webhook") == {"hub.mode", "hub.verify_token", "hub.challenge"}
    assert "requestBody" in paths["/v1/rules"]["post"] and "requestBody" in paths["/v1/events"]["post"]
    assert set(paths["/v1/segments/{segment_id}"]["delete"]["responses"]) >= {"204"}
    assert "200" not in paths["/v1/segments/{segment_id}"]["delete"]["responses"]
    assert {"200", "201"} <= set(paths["/v1/customers"]["post"]["responses"])


@pytest.mark.parametrize("path", ["/openapi.json", "/v1/openapi.json"])
def test_the_document_is_served_without_a_token(aws, lambda_context, path):
    from functions.api import app

    response = app.lambda_handler(http_event("GET", path), lambda_context)
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == json.loads((ROOT / "openapi.json").read_text())


def test_the_swagger_page_carries_its_assets_and_loads_nothing_from_elsewhere(aws, lambda_context):
    from functions.api import app

    response = app.lambda_handler(http_event("GET", "/docs"), lambda_context)
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"].startswith("text/html")
    page = response["body"]
    assert "SwaggerUIBundle" in page and '"/v1/campaigns"' in page
    assert not re.search(r"<(script|link)[^>]+(src|href)=", page, re.IGNORECASE)
    as_json = app.lambda_handler(http_event("GET", "/docs", query={"format": "json"}), lambda_context)
    assert json.loads(as_json["body"])["info"]["title"] == "Engage API"
