"""Builds the adapters once per cold start: a module of typed builders per capability.

    aws        the table, the boto3 clients, the settings
    customers  repository
    inbound    messages, shop_events, events_secrets, webhook_pool, ports (InboundPorts)
    tagging    memberships, catalog, rules, writer, log, reads, batches, passes, pass_queue, ports (Tagging)
    segments   repository, snapshots, audience, tag_catalog
    campaigns  repository, templates, tier_ledger, audience, dispatch_queue, flow_ports, dispatch_ports
    delivery   sends, config, send_queue, retry_delay, whatsapp, sender
    metrics    counters, links, link_shortener, alert_store, alert_topic
    tuning     settings (the settings areas and their change log)
    audience   settings, files, imports, exports, import_customers, chunk_queue, import_ports, export_ports,
               directory, history, index_repair, search_ports (customer search and timeline)
    rewards    coupons, referrals, ports (ReferralPorts)
    journeys   ports (JourneyPorts)
    groups     repository, ports (GroupsPorts), webhooks, and for the sender worker_ports, api

Handlers, routes and jobs call these; capabilities never do. Nothing here runs at import time, so
moto (tests, local runtime) is in place before any client is built. Each module is imported on
first use (`wiring.metrics` imports engage.wiring.metrics then), so a function's cold start loads
only the capabilities it touches (docs/operations.md "Cold starts").
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engage.wiring import (
        audience,
        aws,
        campaigns,
        customers,
        delivery,
        groups,
        inbound,
        journeys,
        metrics,
        rewards,
        segments,
        tagging,
        tuning,
    )

NAMES = (
    "aws",
    "customers",
    "inbound",
    "tagging",
    "segments",
    "campaigns",
    "delivery",
    "metrics",
    "audience",
    "groups",
    "journeys",
    "rewards",
    "tuning",
)

__all__ = [
    "audience",
    "aws",
    "campaigns",
    "customers",
    "delivery",
    "groups",
    "inbound",
    "journeys",
    "metrics",
    "reset",
    "rewards",
    "segments",
    "tagging",
    "tuning",
]


def __getattr__(name: str) -> ModuleType:
    if name in NAMES:
        return importlib.import_module(f"{__name__}.{name}")  # also sets it on this package
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def loaded() -> list[ModuleType]:
    return [m for m in (sys.modules.get(f"{__name__}.{n}") for n in NAMES) if m is not None]


def reset() -> None:
    """Forgets every built adapter and read setting (tests and the local runtime call this after
    setting up moto or changing the environment)."""
    for module in loaded():
        for value in vars(module).values():
            if callable(value) and hasattr(value, "cache_clear"):
                value.cache_clear()
