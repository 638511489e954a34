"""Coupon pools on moto with the real handlers: issue, import, check at checkout, redeem from orders, expire."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from engage.core.time import iso, parse_iso
from tests.integration.rewards.helpers import Stream, call, order, shop_event, signed

T0 = parse_iso("2026-11-23T10:00:00Z")
ASHA, BEN = "+49 151 23456789", "+49 151 98765432"


def pool(**overrides):
    body = {"name": "Welcome", "prefix": "WELCOME", "discount": "10% off", "valid_hours": 72, **overrides}
    status, created = call("POST", "/v1/coupons/pools", body=body)
    assert status == 201, created
    return created


def customer(phone: str) -> str:
    status, body = call("POST", "/v1/customers", body={"phone": phone, "name": "Asha"})
    assert status in (200, 201), body
    return body["id"]


def issue(pool_id: str, customer_id: str, reason: str = "journey:welcome", now=T0):
    from engage import wiring
    from engage.rewards.coupons import issue as issue_code

    return issue_code(wiring.rewards.coupons(), pool_id, customer_id, reason, now)


def stats(pool_id: str) -> dict:
    status, body = call("GET", f"/v1/coupons/pools/{pool_id}")
    assert status == 200
    return body["stats"]


def test_a_pool_is_created_listed_and_closed(aws):
    created = pool(first_n=100)
    assert created["status"] == "open" and created["stats"]["issued"] == 0 and created["stats"]["first_n_left"] == 100
    status, listed = call("GET", "/v1/coupons/pools")
    assert status == 200 and [p["id"] for p in listed["pools"]] == [created["id"]]
    status, closed = call("PATCH", f"/v1/coupons/pools/{created['id']}", body={"status": "closed"})
    assert status == 200 and closed["status"] == "closed"
    cid = customer(ASHA)
    assert issue(created["id"], cid).reason == "pool_closed"


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "discount": "10%"},  # no validity
        {"name": "x", "discount": "10%", "valid_hours": 0},
        {"name": "x", "discount": "10%", "valid_until": "2026-12-01T00:00:00"},  # no zone
        {"name": "x", "discount": "10%", "valid_hours": 24, "prefix": "we-1"},
        {"name": "x", "discount": "10%", "valid_hours": 24, "first_n": 0},
    ],
)
def test_a_bad_pool_is_a_4xx_and_creates_nothing(aws, body):
    status, error = call("POST", "/v1/coupons/pools", body=body)
    assert status == 422 and error["error"]["code"] == "validation_error"
    assert call("GET", "/v1/coupons/pools")[1]["pools"] == []


def test_issuing_is_idempotent_per_customer_and_codes_are_unguessable(aws):
    from engage.rewards.codes import ALPHABET

    p = pool()
    asha, ben = customer(ASHA), customer(BEN)
    first = issue(p["id"], asha).code
    assert first == issue(p["id"], asha).code == issue(p["id"], asha, reason="campaign:cmp_1").code  # one per customer
    other = issue(p["id"], ben).code
    assert other != first
    prefix, body = first.split("-")
    assert prefix == "WELCOME" and len(body) == 8 and set(body) <= set(ALPHABET)
    assert stats(p["id"])["issued"] == 2


def test_a_pool_without_one_code_per_customer_issues_one_per_reason(aws):
    p = pool(one_per_customer=False)
    asha = customer(ASHA)
    a, b = issue(p["id"], asha, "referral:reward:c_1").code, issue(p["id"], asha, "referral:reward:c_2").code
    assert a != b and issue(p["id"], asha, "referral:reward:c_1").code == a


def test_two_issuers_racing_on_one_pool_never_share_a_code(aws, serialized_dynamodb):
    """Twenty threads, ten customers, each customer asked for twice at once: ten distinct codes, each
    customer always answered with its own one, and the pool counts ten."""
    p = pool()
    customers = [customer(f"+49 151 2345{n:04d}") for n in range(10)]
    results: dict[tuple[int, str], str | None] = {}
    barrier = threading.Barrier(20)

    def worker(n: int, cid: str) -> None:
        barrier.wait()
        results[(n, cid)] = issue(p["id"], cid).code

    threads = [threading.Thread(target=worker, args=(n, cid)) for n in range(2) for cid in customers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for cid in customers:
        assert results[(0, cid)] == results[(1, cid)] is not None
    assert len({results[(0, cid)] for cid in customers}) == 10
    assert stats(p["id"])["issued"] == 10


def test_imported_codes_are_handed_out_once_each_then_the_pool_is_exhausted(aws, serialized_dynamodb):
    p = pool(source="imported", prefix="")
    csv = "code\nshop-7kq2m9xp\nSHOP-H4N8R2TW\nSHOP-H4N8R2TW\n\nbad code!\n"
    status, result = call(
        "POST", f"/v1/coupons/pools/{p['id']}/codes", raw_body=csv, headers={"content-type": "text/csv"}
    )
    assert status == 200 and result["added"] == 2 and result["rejected"] == ["bad code!"]
    status, again = call(
        "POST", f"/v1/coupons/pools/{p['id']}/codes", raw_body=csv, headers={"content-type": "text/csv"}
    )
    assert again["added"] == 0 and again["known"] == 2
    codes: list[str | None] = []
    threads = [
        threading.Thread(target=lambda c=c: codes.append(issue(p["id"], c).code))
        for c in (customer(ASHA), customer(BEN))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(c or "" for c in codes) == ["SHOP-7KQ2M9XP", "SHOP-H4N8R2TW"]
    assert issue(p["id"], customer("+49 151 11111111")).reason == "exhausted"


def test_the_csv_route_takes_csv_only(aws):
    p = pool(source="imported")
    status, error = call("POST", f"/v1/coupons/pools/{p['id']}/codes", body={"codes": ["A"]})
    assert status == 415
    generated = pool()
    status, error = call(
        "POST", f"/v1/coupons/pools/{generated['id']}/codes", raw_body="ABCD1234", headers={"content-type": "text/csv"}
    )
    assert status == 409 and error["error"]["code"] == "not_imported"


def test_the_shop_checks_a_code_with_a_signed_request(aws):
    from engage.core.time import utcnow

    p = pool()
    code = issue(p["id"], customer(ASHA), now=utcnow()).code
    status, body = call("GET", f"/v1/coupons/{code}", groups=None, headers=signed(code))
    assert status == 200 and body["valid"] is True and body["discount"] == "10% off"
    status, body = call("GET", f"/v1/coupons/{code.lower()}", groups=None, headers=signed(code.lower()))
    assert status == 200 and body["code"] == code
    status, error = call("GET", f"/v1/coupons/{code}", groups=None)
    assert status == 401 and error["error"]["code"] == "missing_signature"
    status, error = call("GET", f"/v1/coupons/{code}", groups=None, headers=signed(code, "wrong"))
    assert status == 401 and error["error"]["code"] == "bad_signature"
    status, error = call("GET", "/v1/coupons/NOPE-2345ABCD", groups=None, headers=signed("NOPE-2345ABCD"))
    assert status == 404 and error["error"]["code"] == "coupon_not_found"


def test_a_code_is_redeemed_once_by_its_holder_and_counted_with_the_order(aws):
    p = pool()
    stream = Stream(aws)
    shop_event(order("seed", phone=ASHA, total=1.0))  # makes Asha's customer record
    from engage import wiring

    asha = wiring.customers.repository().find_id(wa_id="4915123456789")
    code = issue(p["id"], asha).code
    assert shop_event(order("ord-1", phone=ASHA, total=80.0, coupon=code.lower()))[0] == 202
    stream.run()
    stream.run(replay=True)  # a stream retry: nothing counted twice
    assert stats(p["id"]) | {} == stats(p["id"])
    s = stats(p["id"])
    assert (s["issued"], s["redeemed"], s["revenue"]) == (1, 1, 80.0)
    shop_event(order("ord-2", phone=ASHA, total=50.0, coupon=code))  # double redemption
    stream.run()
    s = stats(p["id"])
    assert (s["redeemed"], s["revenue"]) == (1, 80.0)
    refused = [i for i in history(asha) if i["kind"] == "coupon_refused"]
    assert [r["data"]["reason"] for r in refused] == ["already_redeemed"]
    status, body = call("GET", f"/v1/coupons/{code}", groups=None, headers=signed(code))
    assert body["valid"] is False and body["state"] == "redeemed"


def history(customer_id: str) -> list[dict]:
    from engage import wiring

    return list(wiring.aws.table().query(f"CUST#{customer_id}", sk_prefix="EVT#"))


def test_another_customer_cannot_redeem_a_code_unless_the_pool_allows_anyone(aws):
    from engage import wiring

    stream = Stream(aws)
    shop_event(order("seed-a", phone=ASHA, total=1.0))
    shop_event(order("seed-b", phone=BEN, total=1.0))
    repo = wiring.customers.repository()
    asha, ben = repo.find_id(wa_id="4915123456789"), repo.find_id(wa_id="4915198765432")
    personal, shared = pool(), pool(any_customer=True, prefix="GIFT")
    code, gift = issue(personal["id"], asha).code, issue(shared["id"], asha).code
    shop_event(order("ord-ben-1", phone=BEN, total=40.0, coupon=code))
    shop_event(order("ord-ben-2", phone=BEN, total=40.0, coupon=gift))
    stream.run()
    assert stats(personal["id"])["redeemed"] == 0
    assert [i["data"]["reason"] for i in history(ben) if i["kind"] == "coupon_refused"] == ["other_customer"]
    assert stats(shared["id"])["redeemed"] == 1


def test_first_n_stops_at_the_boundary(aws):
    from engage import wiring

    stream = Stream(aws)
    p = pool(first_n=2, any_customer=True)
    phones = [f"+49 151 3333{n:04d}" for n in range(3)]
    for n, phone in enumerate(phones):
        shop_event(order(f"seed-{n}", phone=phone, total=1.0))
    repo = wiring.customers.repository()
    ids = [repo.find_id(wa_id="49" + phone.replace(" ", "")[3:]) for phone in phones]
    codes = [issue(p["id"], cid).code for cid in ids]
    for n, phone in enumerate(phones):
        shop_event(order(f"ord-{n}", phone=phone, total=10.0, coupon=codes[n], at=f"2026-11-23T10:0{n + 1}:00Z"))
        stream.run()
    s = stats(p["id"])
    assert (s["redeemed"], s["first_n_left"]) == (2, 0)
    assert [i["data"]["reason"] for i in history(ids[2]) if i["kind"] == "coupon_refused"] == ["first_n_reached"]
    assert issue(p["id"], customer("+49 151 44444444")).reason == "first_n_reached"


def test_a_code_expires_at_its_edge_and_expiry_is_a_state(aws):
    from engage import wiring
    from engage.rewards.coupons import expire_due

    stream = Stream(aws)
    p = pool(valid_hours=24)
    shop_event(order("seed", phone=ASHA, total=1.0))
    asha = wiring.customers.repository().find_id(wa_id="4915123456789")
    code = issue(p["id"], asha, now=T0).code
    edge = T0 + timedelta(hours=24)
    store = wiring.rewards.coupons()
    assert store.coupon(code).state_at(edge - timedelta(seconds=1)) == "issued"
    assert store.coupon(code).state_at(edge) == "expired"
    assert expire_due(store, edge - timedelta(seconds=1)) == {"expired": 0}
    shop_event(order("late", phone=ASHA, total=30.0, coupon=code, at=iso(edge)))
    stream.run()
    assert stats(p["id"])["redeemed"] == 0
    assert [i["data"]["reason"] for i in history(asha) if i["kind"] == "coupon_refused"] == ["expired"]
    assert expire_due(store, edge) == {"expired": 1}
    assert expire_due(store, edge + timedelta(hours=1)) == {"expired": 0}  # counted once
    assert store.coupon(code).state == "expired"  # still there, as a state
    assert stats(p["id"])["expired"] == 1


def test_a_code_used_a_second_before_its_end_is_redeemed(aws):
    from engage import wiring

    stream = Stream(aws)
    p = pool(valid_hours=24)
    shop_event(order("seed", phone=ASHA, total=1.0))
    asha = wiring.customers.repository().find_id(wa_id="4915123456789")
    code = issue(p["id"], asha, now=T0).code
    shop_event(order("just-in-time", phone=ASHA, total=30.0, coupon=code, at=iso(T0 + timedelta(hours=24, seconds=-1))))
    stream.run()
    assert stats(p["id"])["redeemed"] == 1


def test_the_expiry_job_runs_from_its_schedule(aws):
    from functions.scheduler import app
    from tests.conftest import FakeLambdaContext, load_event

    result = app.lambda_handler(load_event("scheduler/coupon_expiry"), FakeLambdaContext())
    assert result["expired"] == 0
