"""Coupon pools, the shop's code check, referral codes and the programme (docs/rewards.md).

`GET /v1/coupons/{code}` is the shop's checkout call: like POST /v1/events it has no JWT authorizer
and is signed with EVENTS_WEBHOOK_SECRET, here over the code as it appears in the path
(`X-Engage-Signature: sha256=<hmac(secret, code)>`); a marketer or admin token is accepted instead.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from engage import wiring
from engage.core.errors import NotFound
from engage.core.time import utcnow
from engage.http.auth import Admin, Marketer, caller_groups, require
from engage.http.customers import find_customer
from engage.http.resolver import raw_body, takes_raw
from engage.inbound.shop_events import SIGNATURE_HEADER, verify_signature
from engage.rewards import coupons, referrals
from engage.rewards.config import ReferralConfig
from engage.rewards.coupons import PoolChange, PoolIn
from engage.rewards.qr import qr_svg

router = APIGatewayHttpRouter()
PoolId = Annotated[str, Path(max_length=64)]
Code = Annotated[str, Path(max_length=64)]


def created(body: dict[str, Any]) -> Response[dict]:
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=body)


# ---------------------------------------------------------------------------- coupon pools
@router.get("/v1/coupons/pools")
def list_pools(caller: Marketer) -> dict[str, Any]:
    pools = sorted(wiring.rewards.coupons().pools(), key=lambda p: p.created_at, reverse=True)
    return {"pools": [coupons.pool_view(p) for p in pools]}


@router.post("/v1/coupons/pools")
def create_pool(body: PoolIn, caller: Marketer) -> Response[dict]:
    pool = coupons.create_pool(wiring.rewards.coupons(), body, "pool_" + uuid.uuid4().hex[:12], utcnow())
    return created(coupons.pool_view(pool))


@router.get("/v1/coupons/pools/<pool_id>")
def get_pool(pool_id: PoolId, caller: Marketer) -> dict[str, Any]:
    return coupons.pool_view(coupons.get_pool(wiring.rewards.coupons(), pool_id))


@router.patch("/v1/coupons/pools/<pool_id>")
def change_pool(pool_id: PoolId, body: PoolChange, caller: Marketer) -> dict[str, Any]:
    return coupons.pool_view(coupons.change_pool(wiring.rewards.coupons(), pool_id, body))


@router.post("/v1/coupons/pools/<pool_id>/codes")
@takes_raw("text/csv")
def import_codes(pool_id: PoolId, caller: Marketer) -> dict[str, Any]:
    """The shop's codes as text/csv, one a row in the first column (a `code` header is skipped)."""
    event = router.current_event
    raw = raw_body(event) or b""  # the gate has checked it is UTF-8 text/csv
    return coupons.import_codes(wiring.rewards.coupons(), pool_id, raw.decode("utf-8"))


@router.get("/v1/coupons/<code>")
def check_code(code: Code) -> dict[str, Any]:
    """For the shop's checkout: is this code valid now, for whom, and what discount."""
    event = router.current_event
    header = (event.headers or {}).get(SIGNATURE_HEADER)
    if header or not caller_groups(event):
        verify_signature(header, code.encode("utf-8", "backslashreplace"), wiring.inbound.events_secrets())
    else:
        require(event, "marketer")
    return coupons.check_code(wiring.rewards.coupons(), code, utcnow())


# ---------------------------------------------------------------------------- referrals
def referral_of(ref: str, *, create: bool) -> Response[dict]:
    customer = find_customer(wiring.customers.repository(), ref)
    store = wiring.rewards.referrals()
    if create:
        code, made = referrals.ensure_code(store, customer.id, utcnow())
    else:
        found = store.code_of(customer.id)
        if found is None:
            raise NotFound("the customer has no referral code yet (POST to make one)", code="referral_not_found")
        code, made = found, False
    owner = store.owner(code.code)
    if owner is not None:
        code = code.model_copy(update={"locked": owner.locked})
    config = store.config()
    link = referrals.wa_link(config.business_number, code.code) if config.business_number else None
    view = referrals.referral_view(code, config, qr_svg(link) if link else None)
    return Response(status_code=201 if made else 200, content_type=content_types.APPLICATION_JSON, body=view)


@router.get("/v1/customers/<ref>/referral")
def get_referral(ref: str, caller: Marketer) -> Response[dict]:
    return referral_of(ref, create=False)


@router.post("/v1/customers/<ref>/referral")
def make_referral(ref: str, caller: Marketer) -> Response[dict]:
    """The customer's code (made on the first call), its wa.me link and QR code."""
    return referral_of(ref, create=True)


@router.get("/v1/referrals")
def get_programme(caller: Marketer) -> dict[str, Any]:
    return referrals.programme(wiring.rewards.referrals())


@router.get("/v1/referrals/settings")
def get_referral_settings(caller: Marketer) -> dict[str, Any]:
    return wiring.rewards.referrals().config().model_dump()


@router.put("/v1/referrals/settings")
def put_referral_settings(body: ReferralConfig, caller: Marketer) -> dict[str, Any]:
    return referrals.save_settings(wiring.rewards.referrals(), body, wiring.rewards.coupons()).model_dump()


@router.post("/v1/referrals/codes/<code>/unlock")
def unlock_code(code: Code, caller: Admin) -> dict[str, Any]:
    """An admin's review of a code locked for too many invitations in an hour."""
    result = referrals.unlock(wiring.rewards.referrals(), code, caller, utcnow())
    result["log"] = wiring.rewards.referrals().review_log(result["code"])
    return result
