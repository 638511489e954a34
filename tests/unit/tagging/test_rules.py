"""Every default rule at and around its thresholds, with the clock injected through the event's time."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engage.core.time import epoch, iso, parse_iso
from engage.tagging.rules import Context, Event, default_rules, evaluate

pytestmark = pytest.mark.disable_socket

NOW = parse_iso("2026-11-23T10:00:00Z")
CID = "c_" + "0" * 32
RULES = {r.id: r for r in default_rules()}


def ev(kind: str, when, event_id: str | None = None, **data) -> Event:
    moment = NOW - when if isinstance(when, timedelta) else when
    return Event(CID, kind, event_id or f"{kind}-{moment.isoformat()}-{sorted(data.items())}", moment, data)


def run(rule_ids, event: Event, history=(), tags=None, profile=None, shop=None):
    ctx = Context(event=event, history=[*history, event], tags=tags or {}, profile=profile or {}, shop=shop or {})
    return {(c.tag, c.action): c for c in evaluate([RULES[r] for r in rule_ids], ctx)}


def days(n: float, seconds: int = 0) -> timedelta:
    return timedelta(days=n, seconds=seconds)


def message(text: str, kind: str = "text", payload: str | None = None) -> Event:
    return ev("message", NOW, type=kind, text=text, **({"payload": payload} if payload else {}))


# ------------------------------------------------------------------ keyword rules
@pytest.mark.parametrize(
    "text",
    ["Gibt es RABATT?", "скидка есть?", "Есть СКИДКИ на это?", "¿Tienen un cupón?", "CUPON please", "any promo-code?"],
)
def test_price_words_tag_price_sensitive_in_any_language(text):
    changes = run(["kw-price-sensitive"], message(text))
    assert ("interest:price-sensitive", "add") in changes


@pytest.mark.parametrize("text", ["Rabattcode?", "wholesale order", "discounted items", "скидочка"])
def test_price_words_match_whole_words_only(text):
    assert run(["kw-price-sensitive"], message(text)) == {}


def test_button_reply_titles_and_payloads_are_matched():
    assert run(["kw-price-sensitive"], message("Show me", kind="button", payload="promo code")) != {}
    assert run(["kw-price-sensitive"], message("Discount!", kind="interactive")) != {}


def test_price_asked_expires_seven_days_after_the_question():
    change = run(["kw-price-asked"], message("Wie viel kostet die Creme?"))[("intent:price-asked", "add")]
    assert change.expires_at == epoch(NOW + days(7))
    assert run(["kw-price-asked"], message("priceless")) == {}


def test_new_arrivals_link_label_tags_trend_follower_but_plain_text_does_not():
    click = ev("link_clicked", NOW, url="https://s/new", label="NEW Arrivals")
    assert ("interest:trend-follower", "add") in run(["kw-trend-follower"], click)
    assert run(["kw-trend-follower"], message("new arrivals")) == {}
    assert ("interest:trend-follower", "add") in run(["kw-trend-follower"], message("Новинки", kind="button"))


# ------------------------------------------------------------------ behaviour rules
def clicks(*ages, **data):
    return [ev("link_clicked", age, f"c{i}", url="https://s", **data) for i, age in enumerate(ages)]


def test_two_clicks_within_seven_days_exactly_give_high_intent():
    assert ("intent:high", "add") in run(["bh-intent-high"], ev("link_clicked", NOW, url="u"), clicks(days(7)))


def test_a_click_seven_days_and_one_second_ago_does_not_count():
    assert run(["bh-intent-high"], ev("link_clicked", NOW, url="u"), clicks(days(7, 1))) == {}


def test_a_purchase_after_the_first_click_cancels_high_intent_but_one_before_does_not():
    after = [*clicks(days(3)), ev("order_placed", days(2), order_id="1", items=[])]
    before = [ev("order_placed", days(5), order_id="1", items=[]), *clicks(days(3))]
    assert run(["bh-intent-high"], ev("link_clicked", NOW, url="u"), after) == {}
    assert run(["bh-intent-high"], ev("link_clicked", NOW, url="u"), before) != {}


def test_three_clicks_on_one_product_without_buying_it_is_hesitant():
    now_click = ev("link_clicked", NOW, url="u", product="scarf")
    assert ("intent:hesitant", "add") in run(
        ["bh-intent-hesitant"], now_click, clicks(days(1), days(2), product="scarf")
    )
    assert run(["bh-intent-hesitant"], now_click, clicks(days(1), product="scarf")) == {}
    mixed = clicks(days(1), product="scarf") + clicks(days(2), product="hat")
    assert run(["bh-intent-hesitant"], now_click, mixed) == {}
    bought = [*clicks(days(3), days(2), product="scarf"), ev("order_placed", days(1), items=[{"product": "Scarf"}])]
    other = [*clicks(days(3), days(2), product="scarf"), ev("order_placed", days(1), items=[{"product": "hat"}])]
    assert run(["bh-intent-hesitant"], now_click, bought) == {}
    assert run(["bh-intent-hesitant"], now_click, other) != {}


def test_carts_abandoned_once_and_twice_within_thirty_days():
    cart = ev("cart_abandoned", NOW, cart_id="2")
    earlier = [ev("cart_abandoned", days(30), "x", cart_id="1")]
    too_old = [ev("cart_abandoned", days(30, 1), "x", cart_id="1")]
    both = run(["bh-cart-abandoned", "bh-cart-abandoned-repeat"], cart, earlier)
    assert set(both) == {("cart:abandoned", "add"), ("cart:abandoned-repeat", "add")}
    assert set(run(["bh-cart-abandoned", "bh-cart-abandoned-repeat"], cart, too_old)) == {("cart:abandoned", "add")}


def test_three_purchases_within_a_month_make_a_vip():
    order = ev("order_placed", NOW, "o3", items=[])
    two_more = [ev("order_placed", days(30), "o1", items=[]), ev("order_placed", days(10), "o2", items=[])]
    one_too_old = [ev("order_placed", days(30, 1), "o1", items=[]), ev("order_placed", days(10), "o2", items=[])]
    assert ("value:vip", "add") in run(["bh-value-vip"], order, two_more)
    assert run(["bh-value-vip"], order, one_too_old) == {}


def test_viewing_a_category_three_times_tags_that_interest():
    view = ev("product_viewed", NOW, "v3", product="p", category="Décor & Home")
    views = [ev("product_viewed", days(d), f"v{d}", product="p", category="décor & home") for d in (1, 2)]
    changes = run(["bh-interest-category"], view, views)
    assert ("interest:decor-home", "add") in changes
    assert run(["bh-interest-category"], view, views[:1]) == {}


# ------------------------------------------------------------------ attribute rules
def order_event():
    return ev("order_placed", NOW, order_id="9", items=[])


@pytest.mark.parametrize(("orders", "coupons", "tagged"), [(10, 7, False), (10, 8, True), (3, 3, True), (2, 2, False)])
def test_coupon_share_above_seventy_percent(orders, coupons, tagged):
    changes = run(["at-coupon-share"], order_event(), profile={"orders": orders, "coupon_orders": coupons})
    assert (("interest:price-sensitive", "add") in changes) is tagged


def test_coupon_share_falling_back_removes_only_its_own_tag():
    own = {"interest:price-sensitive": {"source": "rule:at-coupon-share"}}
    said = {"interest:price-sensitive": {"source": "rule:kw-price-sensitive"}}
    profile = {"orders": 10, "coupon_orders": 5}
    assert ("interest:price-sensitive", "remove") in run(["at-coupon-share"], order_event(), tags=own, profile=profile)
    assert run(["at-coupon-share"], order_event(), tags=said, profile=profile) == {}


@pytest.mark.parametrize(("value", "tagged"), [(400.0, False), (401.0, True)])
def test_average_item_price_above_twice_the_shop_average(value, tagged):
    profile = {"orders": 1, "item_count": 4, "item_value": value}  # 100 or 100.25 per item
    shop = {"item_count": 1000, "item_value": 50_000}  # 50 per item
    changes = run(["at-quality-seeker"], order_event(), profile=profile, shop=shop)
    assert (("value:quality-seeker", "add") in changes) is tagged


# ------------------------------------------------------------------ order effects and evaluation
def test_an_order_removes_abandoned_cart_and_adds_bought_month_product():
    order = ev("order_placed", NOW, order_id="7", items=[{"product": "Silk Scarf", "category": "Accessories"}])
    changes = run(["or-order-effects"], order, tags={"cart:abandoned": {}, "intent:high": {}})
    assert set(changes) == {
        ("cart:abandoned", "remove"),
        ("intent:high", "remove"),
        ("bought:2026-11:silk-scarf", "add"),
        ("product:silk-scarf", "add"),
        ("category:accessories", "add"),
        ("stage:purchased", "add"),
    }
    assert changes[("stage:purchased", "add")].expires_at is None
    assert changes[("bought:2026-11:silk-scarf", "add")].reason == "order 7: Silk Scarf"
    assert changes[("product:silk-scarf", "add")].expires_at == changes[("bought:2026-11:silk-scarf", "add")].expires_at


def test_an_item_without_a_category_gets_a_product_tag_and_no_made_up_category():
    order = ev(
        "order_placed", NOW, order_id="8", items=[{"product": "Red Lipstick Nº5"}, {"product": "red lipstick nº5"}]
    )
    changes = run(["or-order-effects"], order)
    assert ("product:red-lipstick-no5", "add") in changes
    assert not [tag for tag, _ in changes if tag.startswith("category:")]


def test_held_tags_are_not_re_added_unless_their_expiry_moves():
    vip = {"value:vip": {"source": "rule:bh-value-vip"}}
    orders = [ev("order_placed", days(d), f"o{d}", items=[]) for d in (1, 2)]
    assert run(["bh-value-vip"], ev("order_placed", NOW, items=[]), orders, tags=vip) == {}
    asked = {"intent:price-asked": {"source": "rule:kw-price-asked"}}
    assert ("intent:price-asked", "add") in run(["kw-price-asked"], message("price?"), tags=asked)


def test_disabled_rules_do_nothing():
    rule = RULES["kw-price-sensitive"].model_copy(update={"enabled": False})
    ctx = Context(event=message("discount"), history=[])
    assert evaluate([rule], ctx) == []


def test_changes_carry_the_event_time_and_rule_as_source():
    change = run(["kw-price-sensitive"], message("discount"))[("interest:price-sensitive", "add")]
    assert (change.at, change.source, change.customer_id) == (iso(NOW), "rule:kw-price-sensitive", CID)
