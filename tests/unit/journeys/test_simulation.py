"""A short run of the journey simulation (bench/journeys_sim.py; the 90-day, 10,000-customer run
is `python -m bench journeys_sim`): every default journey, three campaigns, an independent checker."""

from __future__ import annotations

from datetime import datetime

from bench.journeys_sim import JourneySimulation, simulate

LIVE_STATE_RULES = ("consent", "opt_out", "quiet_hours", "24h_rule", "duplicate")


def test_a_week_of_every_journey_and_three_campaigns_breaks_no_rule_and_leaves_no_run_unknown() -> None:
    sim, result = simulate(people=250, days=7, seed=3)
    # Then no send broke consent, opt-out, quiet hours or the 24-hour rule, and none went twice
    assert not {rule: n for rule, n in result["violations"].items() if rule in LIVE_STATE_RULES}
    # and at the times the sender recorded, no cap or pair limit either
    assert result["violations_at_recorded_times"] == {}
    # and every run is done with a known outcome or waits with a due time
    assert result["unknown_runs"] == 0
    entered = {jid: s["entered"] for jid, s in result["stats"].items()}
    assert all(
        entered[j] > 0 for j in ("welcome", "onboarding", "high-intent", "abandoned-cart", "vip-offer", "survey")
    )
    assert result["accepted"] > 100 and result["handled"].get("deferred", 0) > 0
    assert sum(s["converted"] for s in result["stats"].values()) > 0


def test_skipping_the_idle_minutes_changes_nothing() -> None:
    """The simulation ticks only on minutes with something due; ticking every minute gives the same run."""
    skipping, _ = simulate(people=120, days=3, seed=5)
    every_minute, _ = simulate(people=120, days=3, seed=5, skip_idle=False)

    def accepted(sim: JourneySimulation) -> list[tuple[datetime, str]]:
        return [(at, str(message.callback_data)) for at, message in sim.whatsapp.accepted]

    assert skipping.ticks < every_minute.ticks / 5
    assert accepted(skipping) == accepted(every_minute) and len(accepted(skipping)) > 20
    assert {k: r.model_dump() for k, r in skipping.runs.items.items()} == {
        k: r.model_dump() for k, r in every_minute.runs.items.items()
    }
