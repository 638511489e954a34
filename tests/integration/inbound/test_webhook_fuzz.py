"""Generated WhatsApp-shaped notifications, correctly signed, through the local runtime's webhook
route (the real handler on moto): every one is acknowledged with 200, and nothing stalls: after each,
a good message from a new customer still reaches the stream consumers (the tagger tags it).

The shapes follow the Cloud API's (entry -> changes -> value with metadata, contacts, messages,
statuses, errors), with any field replaced by other JSON now and then, odd sender ids, other business
numbers, lone surrogates and odd timestamps.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from engage.inbound.signature import sign
from local.fake_whatsapp import inbound_text
from local.http_api import Request
from local.runtime import LocalRuntime
from tests.conftest import MARKETER_TOKEN, WHATSAPP_APP_SECRET
from tests.contract.wsgi import FailureLog, describe
from tests.helpers.whatsapp import BUSINESS, WABA_ID

EXAMPLES = int(os.environ.get("ENGAGE_WEBHOOK_FUZZ_EXAMPLES", "30"))

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)
junk = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)
surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
texts = st.one_of(
    st.text(max_size=120),
    st.text(st.one_of(st.characters(), surrogates), max_size=40),  # lone surrogates, as \\udXXX in the JSON
    st.sampled_from(["", " ", "STOP", "Rabatt?", "🎁" * 50, "a" * 5000]),
)
wa_ids = st.one_of(
    st.from_regex(r"[1-9][0-9]{7,14}", fullmatch=True),
    st.sampled_from(["PHONE_NUMBER", "REDACTED", "", "0", "+4915123456789", "4915123456789"]),
    st.text(max_size=20),
)
user_ids = st.one_of(st.none(), st.from_regex(r"[A-Z]{2}\.[0-9]{10,20}", fullmatch=True), st.text(max_size=24))
timestamps = st.one_of(st.integers(min_value=0, max_value=2**40).map(str), st.integers(), st.text(max_size=12))
wamids = st.one_of(st.from_regex(r"wamid\.[A-Za-z0-9=]{4,40}", fullmatch=True), st.text(max_size=20))


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The field as the Cloud API sends it, or (now and then) any other JSON."""
    return st.one_of(strategy, strategy, strategy, junk)


@st.composite
def messages(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(
        st.sampled_from(["text", "interactive", "button", "reaction", "image", "location", "order", "system", "x"])
    )
    payloads: dict[str, st.SearchStrategy[Any]] = {
        "text": st.fixed_dictionaries({"body": maybe(texts)}),
        "interactive": st.fixed_dictionaries(
            {
                "type": st.sampled_from(["button_reply", "list_reply", "nfm_reply"]),
                "button_reply": st.fixed_dictionaries({"id": maybe(texts), "title": maybe(texts)}),
            }
        ),
        "button": st.fixed_dictionaries({"payload": maybe(texts), "text": maybe(texts)}),
        "reaction": st.fixed_dictionaries({"message_id": wamids, "emoji": maybe(texts)}),
        "system": st.fixed_dictionaries({"body": texts, "new_wa_id": wa_ids, "type": st.just("user_changed_number")}),
    }
    body: dict[str, Any] = {
        "from": draw(maybe(wa_ids)),
        "id": draw(maybe(wamids)),
        "timestamp": draw(maybe(timestamps)),
        "type": kind,
        kind: draw(maybe(payloads.get(kind, junk))),
    }
    if draw(st.booleans()):
        body["from_user_id"] = draw(maybe(user_ids))
    if draw(st.integers(0, 4)) == 0:
        body["context"] = draw(maybe(st.fixed_dictionaries({"from": wa_ids, "id": wamids})))
    return body


statuses = st.fixed_dictionaries(
    {
        "id": maybe(wamids),
        "status": maybe(st.sampled_from(["sent", "delivered", "read", "failed", "deleted", "warning", "??"])),
        "timestamp": maybe(timestamps),
        "recipient_id": maybe(wa_ids),
    },
    optional={
        "errors": maybe(st.lists(st.fixed_dictionaries({"code": maybe(st.integers()), "title": texts}), max_size=2)),
        "biz_opaque_callback_data": maybe(texts),
    },
)
contacts = st.fixed_dictionaries(
    {"profile": maybe(st.fixed_dictionaries({"name": maybe(texts)})), "wa_id": maybe(wa_ids)},
    optional={"user_id": maybe(user_ids)},
)
metadata = st.one_of(
    st.just(BUSINESS),
    st.just(BUSINESS),
    st.fixed_dictionaries({"display_phone_number": wa_ids, "phone_number_id": st.text(max_size=16)}),
)
values = st.fixed_dictionaries(
    {"messaging_product": st.just("whatsapp"), "metadata": maybe(metadata)},
    optional={
        "contacts": maybe(st.lists(contacts, max_size=2)),
        "messages": maybe(st.lists(messages(), max_size=3)),
        "statuses": maybe(st.lists(statuses, max_size=3)),
        "errors": junk,
    },
)
fields = st.sampled_from(["messages", "messages", "user_preferences", "account_update", "template_category_update"])
notifications = st.fixed_dictionaries(
    {
        "object": maybe(st.just("whatsapp_business_account")),
        "entry": maybe(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "id": maybe(st.just(WABA_ID)),
                        "changes": maybe(st.lists(st.fixed_dictionaries({"value": maybe(values), "field": fields}))),
                    }
                ),
                min_size=1,
                max_size=2,
            )
        ),
    }
)


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalRuntime]:
    with LocalRuntime() as started:
        yield started


def post_webhook(runtime: LocalRuntime, raw: bytes) -> int:
    headers = [("content-type", "application/json"), ("x-hub-signature-256", sign(raw, WHATSAPP_APP_SECRET))]
    return runtime.handle(Request("POST", "/webhook", "", headers, raw)).status


def tags_of(runtime: LocalRuntime, wa_id: str) -> list[str]:
    headers = [("authorization", f"Bearer {MARKETER_TOKEN}")]
    response = runtime.handle(Request("GET", f"/v1/customers/{quote(wa_id)}/tags", "", headers, b""))
    assert response.status == 200, response.body[:300]
    return [t["name"] for t in json.loads(response.body)["tags"]]


def test_any_signed_notification_is_acknowledged_and_the_next_good_message_is_still_processed(runtime):
    failures = FailureLog()
    logging.getLogger("local.runtime").addHandler(failures)
    counter = iter(range(10**6))

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # the failing body is printed whole; shrinking it is too slow here
        suppress_health_check=list(HealthCheck),
    )
    @given(body=notifications)
    def check(body: dict[str, Any]) -> None:
        raw = json.dumps(body, separators=(",", ":"), ensure_ascii=True).encode()
        failures.last = None
        status = post_webhook(runtime, raw)
        if status >= 500:
            failure, where = describe(failures.last)
            raise AssertionError(f"webhook answered {status}: {failure} at {where}\n{raw[:2000]!r}")
        assert status == 200, raw[:2000]
        # And a good message after it still goes all the way through the stream consumers
        wa_id = f"4917{next(counter):09d}"
        assert post_webhook(runtime, json.dumps(inbound_text(wa_id, "Gibt es einen Rabatt?")).encode()) == 200
        report = runtime.drain(max_seconds=30)
        assert report["idle"], report
        assert "interest:price-sensitive" in tags_of(runtime, wa_id), report

    try:
        check()
    finally:
        logging.getLogger("local.runtime").removeHandler(failures)
