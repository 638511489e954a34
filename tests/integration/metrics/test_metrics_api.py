"""GET /v1/campaigns/{id}/metrics and GET /v1/metrics/daily through the api handler on moto."""

from __future__ import annotations

import json

import pytest

from tests.helpers.events import http_event
from tests.integration.metrics.conftest import seed


def get(path: str, lambda_context, query: dict | None = None, groups: str | None = "marketer"):
    from functions.api import app

    response = app.lambda_handler(http_event("GET", path, groups=groups, query=query), lambda_context)
    return response["statusCode"], json.loads(response["body"])


def test_campaign_metrics_show_the_funnel_health_variants_and_days(aws, lambda_context):
    from engage import wiring

    wiring.aws.table().put(
        {"pk": "CAMPAIGN#cmp_1", "sk": "CAMPAIGN", "id": "cmp_1", "name": "Spring sale", "status": "running",
         "launched_at": "2026-11-22T09:00:00Z", "segment_id": "seg_a"}
    )  # fmt: skip
    seed("cmp_1", "2026-11-22", variant="A", sent=100, delivered=99, read=70, replied=20, clicked=15, clicks=19)
    seed("cmp_1", "2026-11-23", variant="B", sent=100, delivered=93, read=40, replied=5, clicked=5, opted_out=8)
    seed("cmp_1", "2026-11-23", variant="B", failed=7, **{"failed:131026": 5, "failed:131049": 2})
    status, body = get("/v1/campaigns/cmp_1/metrics", lambda_context)
    assert status == 200
    assert {k: body[k] for k in ("sent", "delivered", "read", "replied", "clicked", "failed", "opted_out")} == {
        "sent": 200, "delivered": 192, "read": 110, "replied": 25, "clicked": 20, "failed": 7, "opted_out": 8,
    }  # fmt: skip
    assert body["clicks_total"] == 19 and body["failed_by_code"] == {"131026": 5, "131049": 2}
    assert body["rates"] == {"delivery": 0.96, "read": 0.5729, "reply": 0.1302, "click": 0.1042, "opt_out": 0.0417}
    assert body["health"]["delivery"] == {"rate": 0.96, "status": "low", "healthy": ">= 98%", "sample": 200}
    assert body["health"]["read"]["status"] == "low" and body["health"]["opt_out"]["status"] == "healthy"
    assert body["variants"]["A"]["rates"]["read"] == 0.7071 and body["variants"]["B"]["opted_out"] == 8
    assert [d["day"] for d in body["days"]] == ["2026-11-22", "2026-11-23"]
    assert body["name"] == "Spring sale" and body["report_24h"] is None


def test_unknown_campaign_is_404_and_metrics_need_a_marketer(aws, lambda_context):
    assert get("/v1/campaigns/nope/metrics", lambda_context)[1]["error"]["code"] == "campaign_not_found"
    assert get("/v1/campaigns/nope/metrics", lambda_context, groups=None)[0] == 401


def test_daily_metrics_cover_every_campaign_with_a_segment_breakdown(aws, lambda_context):
    seed("cmp_1", "2026-11-20", segment_id="seg_a", sent=10, delivered=10, read=6)
    seed("cmp_2", "2026-11-20", segment_id="seg_b", sent=5, delivered=4)
    seed(None, "2026-11-21", sent=3, delivered=3)  # a journey message: no campaign, no segment
    seed("cmp_1", "2026-11-25", sent=99)  # outside the range
    status, body = get("/v1/metrics/daily", lambda_context, query={"from": "2026-11-19", "to": "2026-11-21"})
    assert status == 200
    assert [d["day"] for d in body["days"]] == ["2026-11-19", "2026-11-20", "2026-11-21"]
    day = body["days"][1]
    assert day["sent"] == 15 and day["segments"]["seg_a"]["rates"]["read"] == 0.6
    assert day["segments"]["seg_b"]["delivered"] == 4
    assert body["days"][2]["segments"] == {"-": body["days"][2]["segments"]["-"]}
    assert body["totals"]["sent"] == 18


@pytest.mark.parametrize(
    "query,code",
    [
        ({"from": "2026-13-01", "to": "2026-11-21"}, "invalid_date"),
        ({"from": "2026-11-22", "to": "2026-11-21"}, "invalid_range"),
        ({"from": "2026-01-01", "to": "2026-11-21"}, "range_too_long"),
    ],
)
def test_daily_metrics_refuse_bad_ranges(aws, lambda_context, query, code):
    status, body = get("/v1/metrics/daily", lambda_context, query=query)
    assert (status, body["error"]["code"]) == (400, code)
