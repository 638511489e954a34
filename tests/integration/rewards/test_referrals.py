"""Referrals on moto with the real handlers: the code and link, the webhook's invitation, the tagger's
attribution and reward on the first order, the programme's stats, the admin unlock."""

from __future__ import annotations

from tests.helpers.whatsapp import inbound, signed_webhook_event, text
from tests.integration.rewards.helpers import Stream, call, order, send_jobs, shop_event

ASHA_PHONE = "+49 151 23456789"
BEN_WA = "4917012345678"


def webhook(body) -> None:
    from functions.webhook import app
    from tests.conftest import FakeLambdaContext

    assert app.lambda_handler(signed_webhook_event(body), FakeLambdaContext())["statusCode"] == 200


def setup_programme() -> tuple[str, str]:
    """Asha (a customer with a referral code), a reward pool and a welcome pool, the business number."""
    status, asha = call("POST", "/v1/customers", body={"phone": ASHA_PHONE, "name": "Asha"})
    assert status in (200, 201)
    pools = {}
    for name in ("reward", "welcome"):
        status, pool = call(
            "POST",
            "/v1/coupons/pools",
            body={
                "name": name,
                "prefix": name.upper()[:6],
                "discount": "10% off",
                "valid_hours": 168,
                "one_per_customer": False,
            },
        )
        pools[name] = pool["id"]
    settings = {
        "business_number": "4930123456",
        "welcome_pool_id": pools["welcome"],
        "tiers": [
            {"at": 1, "tag": "referral:tier-1", "pool_id": pools["reward"]},
            {"at": 5, "tag": "referral:tier-5", "pool_id": pools["reward"]},
            {"at": 10, "tag": "referral:tier-10", "pool_id": pools["reward"]},
        ],
    }
    status, saved = call("PUT", "/v1/referrals/settings", body=settings)
    assert status == 200 and saved["threshold"] == 199
    status, referral = call("POST", "/v1/customers/4915123456789/referral")
    assert status == 201
    return asha["id"], referral["code"]


def test_the_referral_route_gives_the_code_link_and_qr_code(aws):
    asha_id, code = setup_programme()
    status, again = call("POST", f"/v1/customers/{asha_id}/referral")
    assert status == 200 and again["code"] == code
    status, read = call("GET", "/v1/customers/4915123456789/referral")
    assert status == 200 and read["link"] == f"https://wa.me/4930123456?text=ref%20{code}"
    assert read["qr_svg"].startswith("data:image/svg+xml") and read["locked"] is False
    status, error = call("GET", "/v1/customers/+4915199999999/referral")
    assert status == 404
    status, error = call("PUT", "/v1/referrals/settings", body={"welcome_pool_id": "pool_missing"})
    assert status == 400 and error["error"]["code"] == "pool_not_found"


def test_an_invitee_whose_first_order_reaches_199_rewards_both_sides_once(aws):
    asha_id, code = setup_programme()
    stream = Stream(aws)
    webhook(inbound(text(f"Hi! ref {code.lower()}", wa_id=BEN_WA, user_id="", wamid="wamid.ben1")))
    stream.run()
    status, programme = call("GET", "/v1/referrals")
    assert programme["stats"]["pending"] == 1 and programme["stats"]["invitations"] == 1
    assert shop_event(order("ben-1", phone="+" + BEN_WA, total=199.0, at="2026-11-23T12:00:00Z"))[0] == 202
    stream.run()
    stream.run(replay=True)  # the stream hands everything again: nothing twice
    jobs = send_jobs(aws)
    assert sorted(j["send_key"].rsplit(":", 1)[0] for j in jobs) == ["referral:reward", "referral:welcome"]
    reward = next(j for j in jobs if j["customer_id"] == asha_id)
    assert reward["campaign_id"] == "referral" and reward["message"]["template"] == "referral_reward"
    status, programme = call("GET", "/v1/referrals")
    assert programme["stats"]["qualified"] == 1 and programme["stats"]["rewarded"] == 1
    assert programme["top_inviters"][0]["customer_id"] == asha_id
    status, tags = call("GET", f"/v1/customers/{asha_id}/tags")
    assert "referral:tier-1" in {t["name"] for t in tags["tags"]}


def test_a_first_order_of_198_99_rewards_nobody(aws):
    _, code = setup_programme()
    stream = Stream(aws)
    webhook(inbound(text(f"ref {code}", wa_id=BEN_WA, user_id="", wamid="wamid.ben1")))
    stream.run()
    shop_event(order("ben-1", phone="+" + BEN_WA, total=198.99, at="2026-11-23T12:00:00Z"))
    stream.run()
    assert send_jobs(aws) == []
    assert call("GET", "/v1/referrals")[1]["stats"]["below_threshold"] == 1


def test_the_inviter_writing_their_own_code_is_a_self_referral(aws):
    _, code = setup_programme()  # Asha was created through the API and never wrote
    stream = Stream(aws)
    webhook(inbound(text(f"ref {code}", wamid="wamid.asha1")))  # from Asha's own number
    stream.run()
    shop_event(order("asha-1", phone=ASHA_PHONE, total=300.0, at="2026-11-23T12:00:00Z"))
    stream.run()
    assert send_jobs(aws) == []
    stats = call("GET", "/v1/referrals")[1]["stats"]
    assert (stats["rejected"], stats["qualified"]) == (1, 0)


def test_only_an_admin_unlocks_a_code_and_the_review_is_logged(aws):
    from engage import wiring

    _, code = setup_programme()
    wiring.rewards.referrals().lock(code, at="2026-11-23T10:30:00Z", reason="51 invitations in the hour 2026-11-23T10")
    status, _ = call("POST", f"/v1/referrals/codes/{code}/unlock")
    assert status == 403
    status, result = call("POST", f"/v1/referrals/codes/{code}/unlock", groups="admin")
    assert status == 200 and result["locked"] is False
    assert [entry["change"] for entry in result["log"]] == ["lock", "unlock"]
    status, error = call("POST", f"/v1/referrals/codes/{code}/unlock", groups="admin")
    assert status == 409 and error["error"]["code"] == "not_locked"


def test_segments_find_the_invitee_by_the_inviters_code_and_the_inviter_by_successful_invites(aws):
    asha_id, code = setup_programme()
    stream = Stream(aws)
    webhook(inbound(text(f"Hi! ref {code.lower()}", wa_id=BEN_WA, user_id="", wamid="wamid.ben1")))
    stream.run()
    status, referred = call("POST", "/v1/segments/preview", body={"rule": f"referred_by:{code}"})
    assert status == 200 and referred["count"] == 1, referred
    ben_id = referred["sample"][0]["id"]
    assert ben_id != asha_id
    status, counted = call("POST", "/v1/segments/preview", body={"rule": {"referrals": {"at_least": 1}}})
    assert status == 200 and counted["count"] == 0  # nobody qualified yet
    assert shop_event(order("ben-1", phone="+" + BEN_WA, total=250.0, at="2026-11-23T12:00:00Z"))[0] == 202
    stream.run()
    stream.run(replay=True)  # a replay sets the same count, never one more
    status, counted = call("POST", "/v1/segments/preview", body={"rule": "referrals >= 1"})
    assert status == 200 and [s["id"] for s in counted["sample"]] == [asha_id]
    status, counted = call("POST", "/v1/segments/preview", body={"rule": "referrals >= 2"})
    assert status == 200 and counted["count"] == 0
    status, both = call("POST", "/v1/segments/preview", body={"rule": f"referred_by:{code} OR referrals >= 1"})
    assert status == 200 and both["count"] == 2
    status, error = call("POST", "/v1/segments/preview", body={"rule": f"referred_by:{code.lower()}"})
    assert status == 400 and error["error"]["details"]["suggestions"] == [code]
