"""The journeys that ship (DESIGN §4 "Journeys that ship as defaults"), each disabled until enabled.

Their ids are stable: installing them again changes nothing, and a marketer's edits are kept.
Template names are the shop's approved templates of the same name; codes come from the coupon
pool each step names, the step's static code while that pool does not exist.
"""

from __future__ import annotations

from typing import Any

DAY = 1440
DEFAULTS_RELEASE = 1  # raise it to install defaults added later (existing ids are left alone)

DEFAULTS: dict[str, dict[str, Any]] = {
    "welcome": {
        "name": "Welcome with a first code",
        "description": "Within 5 minutes of opting in: a welcome and a first code (the minute sweep sends it).",
        "trigger": {"type": "opt_in"},
        "start": "code",
        "steps": {
            "code": {"type": "coupon", "pool": "welcome", "code": "WELCOME10", "next": "hello"},
            "hello": {"type": "send", "template": "welcome_code", "variables": {"code": "{{coupon}}"}, "next": "goal"},
            "goal": {"type": "goal", "event": "order_placed", "within_minutes": 14 * DAY},
        },
        "settings": {"reentry_days": None, "stop_on": ["order"]},
    },
    "onboarding": {
        "name": "New customer onboarding",
        "description": "After a first order: one message a day for 3 days.",
        "trigger": {"type": "event", "event": "order_placed"},
        "start": "first-order",
        "steps": {
            "first-order": {"type": "branch", "rule": "orders <= 1", "yes": "day1", "no": "not-new"},
            "day1": {"type": "send", "template": "onboarding_1", "category": "utility", "next": "wait1"},
            "wait1": {"type": "wait", "minutes": DAY, "next": "day2"},
            "day2": {"type": "send", "template": "onboarding_2", "next": "wait2"},
            "wait2": {"type": "wait", "minutes": DAY, "next": "day3"},
            "day3": {"type": "send", "template": "onboarding_3", "next": "done"},
            "done": {"type": "exit", "reason": "completed"},
            "not-new": {"type": "exit", "reason": "not_new"},
        },
        "settings": {"reentry_days": None},
    },
    "high-intent": {
        "name": "High-intent offer",
        "description": "A customer tagged intent:high gets an offer within 3 days, in their send window.",
        "trigger": {"type": "tag_added", "tag": "intent:high"},
        "start": "window",
        "steps": {
            "window": {"type": "wait", "until": "send_window", "next": "code"},
            "code": {"type": "coupon", "pool": "high-intent", "code": "TODAY10", "next": "offer"},
            "offer": {
                "type": "send",
                "template": "high_intent_offer",
                "variables": {"code": "{{coupon}}"},
                "next": "goal",
            },
            "goal": {"type": "goal", "event": "order_placed", "within_minutes": 3 * DAY},
        },
        "settings": {"reentry_days": 30, "stop_on": ["order"]},
    },
    "abandoned-cart": {
        "name": "Abandoned cart reminder",
        "description": "A reminder within 4 hours (a code for repeat abandoners); ends if they order.",
        "trigger": {"type": "event", "event": "cart_abandoned"},
        "start": "wait",
        "steps": {
            "wait": {
                "type": "wait_event",
                "event": "order_placed",
                "timeout_minutes": 60,
                "on_event": "bought",
                "on_timeout": "repeat",
            },
            "repeat": {"type": "branch", "rule": "tag:cart:abandoned-repeat", "yes": "code", "no": "remind"},
            "code": {"type": "coupon", "pool": "cart", "code": "CART10", "next": "remind-code"},
            "remind-code": {
                "type": "send",
                "template": "cart_reminder_code",
                "variables": {"code": "{{coupon}}"},
                "next": "goal",
            },
            "remind": {"type": "send", "template": "cart_reminder", "next": "goal"},
            "goal": {"type": "goal", "event": "order_placed", "within_minutes": 3 * DAY},
            "bought": {"type": "exit", "reason": "ordered"},
        },
        "settings": {"reentry_days": 7, "stop_on": ["order"], "goal_window_days": 3},
    },
    "dormant-reactivation": {
        "name": "Dormant reactivation",
        "description": "90 days after the last order: a code valid 3 days.",
        "trigger": {"type": "attribute_age", "attribute": "last_order_at", "days": 90},
        "start": "window",
        "steps": {
            "window": {"type": "wait", "until": "send_window", "next": "code"},
            "code": {"type": "coupon", "pool": "reactivation", "code": "BACK15", "next": "offer"},
            "offer": {
                "type": "send",
                "template": "reactivation_code",
                "variables": {"code": "{{coupon}}", "valid_days": "3"},
                "next": "goal",
            },
            "goal": {"type": "goal", "event": "order_placed", "within_minutes": 3 * DAY},
        },
        "settings": {"reentry_days": 90, "stop_on": ["order"], "goal_window_days": 3},
    },
    "vip-offer": {
        "name": "VIP exclusive offer",
        "description": "Customers entering the VIP tier: 20% off, for 48 hours.",
        "trigger": {"type": "tag_added", "tag": "rfm:vip"},
        "start": "window",
        "steps": {
            "window": {"type": "wait", "until": "send_window", "next": "code"},
            "code": {"type": "coupon", "pool": "vip", "code": "VIP20", "next": "offer"},
            "offer": {
                "type": "send",
                "template": "vip_offer",
                "variables": {"code": "{{coupon}}", "percent": "20", "valid_hours": "48"},
                "next": "goal",
            },
            "goal": {"type": "goal", "event": "order_placed", "within_minutes": 2 * DAY},
        },
        "settings": {"reentry_days": 90, "stop_on": ["order"], "goal_window_days": 2},
    },
    "survey": {
        "name": "Potential customer survey",
        "description": "Someone who wrote but never bought: 3 short questions; each answer becomes a tag.",
        "trigger": {"type": "first_inbound"},
        "start": "potential",
        "steps": {
            "potential": {"type": "branch", "rule": "orders <= 0", "yes": "q1", "no": "customer"},
            "q1": {
                "type": "send",
                "text": "Quick question: what are you shopping for?",
                "buttons": [
                    {"id": "q1-self", "title": "For me", "tag": "survey:for-self"},
                    {"id": "q1-gift", "title": "A gift", "tag": "survey:gift"},
                ],
                "next": "a1",
            },
            "a1": {
                "type": "wait_event",
                "event": "reply",
                "timeout_minutes": DAY,
                "on_event": "q2",
                "on_timeout": "silent",
            },
            "q2": {
                "type": "send",
                "text": "What matters most to you?",
                "buttons": [
                    {"id": "q2-price", "title": "Price", "tag": "survey:price"},
                    {"id": "q2-quality", "title": "Quality", "tag": "survey:quality"},
                    {"id": "q2-new", "title": "New arrivals", "tag": "survey:new-arrivals"},
                ],
                "next": "a2",
            },
            "a2": {
                "type": "wait_event",
                "event": "reply",
                "timeout_minutes": DAY,
                "on_event": "q3",
                "on_timeout": "silent",
            },
            "q3": {
                "type": "send",
                "text": "How would you like to hear from us?",
                "buttons": [
                    {"id": "q3-offers", "title": "Offers only", "tag": "survey:offers-only"},
                    {"id": "q3-news", "title": "News and tips", "tag": "survey:news"},
                ],
                "next": "a3",
            },
            "a3": {
                "type": "wait_event",
                "event": "reply",
                "timeout_minutes": DAY,
                "on_event": "thanks",
                "on_timeout": "silent",
            },
            "thanks": {"type": "exit", "reason": "answered"},
            "silent": {"type": "exit", "reason": "no_answer"},
            "customer": {"type": "exit", "reason": "already_customer"},
        },
        "settings": {"reentry_days": None},
    },
}
