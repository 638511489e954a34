"""The settings document: defaults, checks with the path at fault, changes and their log."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engage.core.errors import Invalid
from engage.delivery.config import SendingConfig
from engage.metrics.funnel import MetricsConfig
from engage.tuning import settings as tuning
from tests.fakes.tuning import InMemorySettings

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def change(store, body, *, replace=False, by="ada@shop.example"):
    return tuning.change(store, body, by=by, now=NOW, replace=replace)


def test_nothing_stored_reads_every_default_of_the_capabilities():
    settings = tuning.current(InMemorySettings())
    assert settings.sending == SendingConfig()
    assert settings.metrics == MetricsConfig.from_document(None)
    assert settings.sending.caps.promo_max_per_30_days == 2
    assert settings.sending.windows.quiet_start == 22
    assert settings.tagging.health.healthy_max == 80
    assert settings.customers.default_country is None


def test_every_number_has_an_allowed_range():
    # A field added to a config model without a range here could not be changed (and is caught now).
    for path, value in tuning.leaves(tuning.dump(tuning.Settings())):
        if isinstance(value, int | float) and not isinstance(value, bool):
            assert tuning.bounds_of(path) is not None, path


def test_a_patch_changes_only_what_it_names_and_logs_each_path():
    store = InMemorySettings()
    settings, entry = change(store, {"sending": {"caps": {"promo_max_per_30_days": 3}, "messaging_tier": 10_000}})
    assert settings.sending.caps.promo_max_per_30_days == 3
    assert settings.sending.caps.promo_min_gap_days == 7  # untouched
    assert entry is not None
    assert entry["by"] == "ada@shop.example" and entry["at"] == "2026-11-23T10:00:00Z"
    assert entry["changes"] == [
        {"path": "sending.caps.promo_max_per_30_days", "from": 2, "to": 3},
        {"path": "sending.messaging_tier", "from": 2000, "to": 10_000},
    ]
    assert set(store.stored) == {"sending"}  # only the area that changed is written
    assert SendingConfig.model_validate(store.stored["sending"]).caps.promo_max_per_30_days == 3


def test_the_same_change_twice_writes_and_logs_once():
    store = InMemorySettings()
    change(store, {"metrics": {"alerts": {"min_sample": 80}}})
    settings, entry = change(store, {"metrics": {"alerts": {"min_sample": 80}}})
    assert entry is None and len(store.entries) == 1
    assert settings.metrics.alerts.min_sample == 80


def test_a_replace_puts_what_it_leaves_out_back_to_its_default():
    store = InMemorySettings()
    change(store, {"sending": {"caps": {"promo_max_per_30_days": 4}}, "tagging": {"health": {"silent_days": 45}}})
    settings, entry = change(store, {"tagging": {"health": {"silent_days": 45}}}, replace=True)
    assert settings.sending.caps.promo_max_per_30_days == 2
    assert entry is not None
    assert [c["path"] for c in entry["changes"]] == ["sending.caps.promo_max_per_30_days"]


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        ({"sending": {"caps": {"promo_max_per_30_days": 500}}}, "invalid_setting", "between 0 and 60"),
        ({"sending": {"caps": {"promo_max_per_30_days": "3"}}}, "invalid_setting", "promo_max_per_30_days"),
        ({"sending": {"caps": {"promo_max_per_30_days": 2.5}}}, "invalid_setting", "promo_max_per_30_days"),
        ({"sending": {"capz": {}}}, "unknown_setting", "sending.capz"),
        ({"sending": {"caps": {"promo_max": 1}}}, "unknown_setting", "sending.caps.promo_max"),
        ({"colour": "red"}, "unknown_setting", "colour"),
        ({"sending": {"windows": {"weekday": [{"start": 12, "end": 10}]}}}, "invalid_setting", "before end"),
        ({"sending": {"windows": {"quiet_start": 6, "quiet_end": 8}}}, "invalid_setting", "quiet"),
        ({"sending": {"windows": {"middle_east_countries": ["XX"]}}}, "invalid_setting", "XX"),
        ({"customers": {"default_country": "de"}}, "invalid_setting", "'de'"),
        ({"metrics": {"alerts": {"read_rate_min": 1.5}}}, "invalid_setting", "between 0 and 1"),
        ({"metrics": {"ranges": {"read": {"min": 0.9, "max": 0.5}}}}, "invalid_setting", "min must not exceed"),
        ({"tagging": {"health": {"healthy_min": 90}}}, "invalid_setting", "healthy_min"),
        ({"sending": {"service_window_hours": 48}}, "invalid_setting", "between 1 and 24"),
        ({"sending": {"throttle": {"number_throughput_per_second": 0}}}, "invalid_setting", "between 1 and 1000"),
        ({"sending": {"urgency_words": [""]}}, "invalid_setting", "urgency_words"),
        ({"sending": {"caps": None}}, "invalid_setting", "caps"),
    ],
)
def test_a_bad_change_is_refused_with_its_path_and_changes_nothing(body, code, words):
    store = InMemorySettings()
    with pytest.raises(Invalid) as refused:
        change(store, body)
    assert refused.value.status == 422
    assert refused.value.code == code
    assert words in refused.value.message
    assert store.stored == {} and store.entries == []


def test_a_default_country_in_capitals_is_kept():
    settings, _ = change(InMemorySettings(), {"customers": {"default_country": "AT"}})
    assert settings.customers.default_country == "AT"
