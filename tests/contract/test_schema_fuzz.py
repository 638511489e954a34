"""Schema fuzzing: schemathesis generates requests from the committed openapi.json (valid and invalid
ones, odd content types and methods) for every operation and sends them through the local runtime:
API Gateway's routes and JWT stand-in, the real handlers, moto. No answer may be a 5xx, and every
answer must be documented: its status, its content type, its body's schema.

Bounded to about two minutes on two cores (ENGAGE_FUZZ_EXAMPLES cases per operation, default 20).
The figures (requests, operations covered, 5xx and their classes, schema mismatches) are printed at
the end of the run: `.venv/bin/python -m pytest tests/contract`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import checks as st_checks
from schemathesis.specs.openapi import checks as openapi_checks

from local.runtime import LocalRuntime
from tests.conftest import ADMIN_TOKEN, MARKETER_TOKEN, ROOT
from tests.contract.figures import figures_path
from tests.contract.wsgi import RuntimeApp

pytestmark = pytest.mark.contract

EXAMPLES = int(os.environ.get("ENGAGE_FUZZ_EXAMPLES", "20"))
DOCUMENT = json.loads((ROOT / "openapi.json").read_text())
APP = RuntimeApp()
schema = schemathesis.openapi.from_dict(DOCUMENT)
schema.app = APP

CHECKS = [
    st_checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
]
TOKENS = [ADMIN_TOKEN, MARKETER_TOKEN]
COVERED: set[str] = set()
MISMATCHES: list[str] = []

# Phone numbers a client really sends: a generated body reaches the checks behind the phone number
# only when the number parses, so half the customer bodies carry one of these.
PHONES = ["+4915123456789", "+49 151 23456789", "4915123456789", "015123456789", "+1 415 555 2671", "+79161234567"]
IDENTIFIED = {"POST /v1/customers"}


@schema.hook("before_generate_body")
def with_real_phone_numbers(context: Any, strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    if context.operation is None or context.operation.label not in IDENTIFIED:
        return strategy

    def with_phone(body: Any, phone: str, attributes: dict[str, Any] | None) -> Any:
        if not isinstance(body, dict):
            return body
        return {**body, "phone": phone, **({"attributes": attributes} if attributes is not None else {})}

    attributes = st.none() | st.dictionaries(  # short keys: the empty one comes up often
        st.text(max_size=2), st.text() | st.integers() | st.floats(allow_nan=False) | st.booleans(), max_size=3
    )
    return st.one_of(strategy, st.builds(with_phone, strategy, st.sampled_from(PHONES), attributes))


@pytest.fixture(scope="module", autouse=True)
def runtime() -> Iterator[LocalRuntime]:
    with LocalRuntime() as started:
        APP.runtime = started
        yield started
        APP.runtime = None
    documented = sum(1 for item in DOCUMENT["paths"].values() for m in item if m != "parameters")
    classes = sorted({f"{e.failure} at {e.where}" for e in APP.tally.server_errors})
    figures_path().write_text(
        json.dumps(
            {
                "requests": APP.tally.requests,
                "operations_covered": len(COVERED),
                "operations_documented": documented,
                "server_errors": len(APP.tally.server_errors),
                "server_error_classes": classes,
                "schema_mismatches": len(MISMATCHES),
                "failures": sorted(set(MISMATCHES)),
            },
            indent=1,
        )
    )


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented_and_never_5xx(case: Any) -> None:
    COVERED.add(case.operation.label)
    token = TOKENS[APP.tally.requests % 2]  # admins and marketers alike: a marketer's 403 is documented too
    response = case.call(headers={"authorization": f"Bearer {token}"})
    try:
        case.validate_response(response, checks=CHECKS)
    except Exception:
        if response.status_code < 500:
            MISMATCHES.append(f"{case.operation.label} -> {response.status_code}: {response.text[:160]}")
        raise
