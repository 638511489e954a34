"""/v1/customers: read a customer by wa_id, user_id or internal id."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from engage import wiring
from engage.customers import Customer, clean
from engage.errors import NotFound
from engage.http.auth import require
from engage.ports import CustomerStore
from engage.tagging import customer_tags
from engage.timeutil import utcnow

router = APIGatewayHttpRouter()


def find_customer(store: CustomerStore, ref: str) -> Customer:
    """`ref` is a wa_id (digits), a user_id (BSUID) or the internal id (c_...)."""
    ref = clean(ref) or ""
    customer_id = None
    if ref.startswith("c_"):
        customer_id = ref
    elif ref.isdigit():
        customer_id = store.find_id(wa_id=ref)
    elif ref:
        customer_id = store.find_id(user_id=ref)
    customer = store.get(customer_id) if customer_id else None
    if customer is None:
        raise NotFound(f"no customer {ref!r}", code="customer_not_found")
    return customer


@router.get("/v1/customers/<ref>")
def get_customer(ref: str) -> dict:
    require(router.current_event, "marketer")
    customer = find_customer(wiring.customers(), ref)
    return {**customer.model_dump(), "tags": customer_tags(wiring.tagging(), customer.id, utcnow())}
