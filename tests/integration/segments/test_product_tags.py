"""Product and category tags from orders, through the tagger on moto, in segment rules as written in
the playbook: `interest:cosmetics AND stage:purchased AND NOT product:lipstick`."""

from __future__ import annotations

import json

from tests.conftest import FakeLambdaContext
from tests.helpers.events import http_event
from tests.helpers.streams import history_item, stream_event

RULE = "interest:cosmetics AND stage:purchased AND NOT product:lipstick"


def call(method, path, body=None, groups="marketer"):
    from functions.api import app

    response = app.lambda_handler(http_event(method, path, body=body, groups=groups), FakeLambdaContext())
    return response["statusCode"], json.loads(response["body"])


def customer(n: int, *, cosmetics: bool) -> str:
    from engage import wiring
    from engage.core.time import parse_iso
    from engage.customers.profiles import resolve_customer
    from engage.tagging.service import ready

    ready(wiring.tagging.ports(), parse_iso("2026-11-01T00:00:00Z"))  # the starter catalog, installed once

    found, _ = resolve_customer(
        wiring.customers.repository(), wa_id=f"49151230{n:05d}", user_id=None, now=parse_iso("2026-11-01T00:00:00Z")
    )
    if cosmetics:
        wiring.tagging.memberships().add(found.id, "interest:cosmetics", since="2026-11-01T00:00:00Z", source="rule:x")
    return found.id


def order(customer_id: str, n: int, product: str, category: str | None = "Cosmetics") -> dict:
    item = {"product": product, "price": 20, "quantity": 1, **({"category": category} if category else {})}
    return history_item(
        customer_id, "order_placed", f"o-{n}", "2026-11-23T10:00:00Z", order_id=str(n), items=[item], total=20,
        currency="EUR",
    )  # fmt: skip


def test_the_playbook_rule_works_as_written_before_and_after_lipstick_orders(aws, lambda_context):
    from engage import wiring
    from functions.tagger import app as tagger

    # Given ten cosmetics fans: four bought lipstick, three mascara, three nothing; two others bought lipstick
    fans = [customer(n, cosmetics=True) for n in range(10)]
    others = [customer(n, cosmetics=False) for n in range(10, 12)]
    # Before any order the rule is valid (product:lipstick is a product nobody bought yet) and matches nobody
    status, preview = call("POST", "/v1/segments/preview", {"rule": RULE})
    assert (status, preview.get("count")) == (200, 0), preview
    orders = [order(c, n, "Lipstick") for n, c in enumerate(fans[:4])]
    orders += [order(c, 10 + n, "Mascara", category=None) for n, c in enumerate(fans[4:7])]
    orders += [order(c, 20 + n, "Lipstick") for n, c in enumerate(others)]
    for item in orders:
        wiring.aws.table().put(item)
    assert tagger.lambda_handler(stream_event(orders), lambda_context) == {"batchItemFailures": []}

    # When the rule is previewed as written
    status, preview = call("POST", "/v1/segments/preview", {"rule": RULE})
    # Then only the mascara buyers match
    assert status == 200, preview
    assert preview["count"] == 3
    assert sorted(s["id"] for s in preview["sample"]) == sorted(fans[4:7])
    # and the tags say what was bought, with the category when the shop named one
    held = {m["name"] for m in wiring.tagging.memberships().of_customer(fans[0])}
    assert {"product:lipstick", "category:cosmetics", "stage:purchased"} <= held
    assert not [
        t for t in (m["name"] for m in wiring.tagging.memberships().of_customer(fans[4])) if t.startswith("category:")
    ]


def test_product_tags_stay_out_of_the_catalog_and_its_healthy_size(aws, lambda_context):
    from engage import wiring
    from functions.scheduler import app as scheduler
    from functions.tagger import app as tagger

    buyer = customer(1, cosmetics=False)
    orders = [order(buyer, n, f"Product {n}") for n in range(30)]
    for item in orders:
        wiring.aws.table().put(item)
    tagger.lambda_handler(stream_event(orders), lambda_context)
    assert len([m for m in wiring.tagging.memberships().of_customer(buyer) if m["name"].startswith("product:")]) == 30
    report = scheduler.lambda_handler({"schedule": "tag-health", "now": "2026-11-23T12:00:00Z"}, lambda_context)
    assert report["catalog_size"] < 30  # the starter catalog and the rules' own tags, not 30 products
    status, tags = call("GET", "/v1/tags")
    assert not [t for t in tags["tags"] if t["name"].startswith(("product:", "category:"))]


def test_hand_tagging_a_product_is_refused_it_belongs_to_the_orders(aws):
    customer_id = customer(1, cosmetics=False)
    status, body = call("POST", "/v1/tags", {"name": "product:lipstick"}, groups="admin")
    assert (status, body["error"]["code"]) == (400, "system_dimension")
    status, body = call("POST", f"/v1/customers/{customer_id}/tags", {"tag": "product:lipstick"})
    assert 400 <= status < 500
