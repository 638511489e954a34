"""Builds the adapters once per cold start: a module of typed builders per capability.

    aws        the table, the boto3 clients, the settings
    customers  repository
    inbound    messages, shop_events, events_secrets, webhook_pool, ports (InboundPorts)
    tagging    memberships, catalog, rules, writer, log, reads, batches, passes, pass_queue, ports (Tagging)
    segments   repository, snapshots, audience, tag_catalog
    campaigns  repository, templates, tier_ledger, audience, dispatch_queue, flow_ports, dispatch_ports
    delivery   sends, config, send_queue, retry_delay, whatsapp, sender
    metrics    counters, links, link_shortener, alert_store, alert_topic
    audience   settings, files, imports, exports, import_customers, chunk_queue, import_ports, export_ports

Handlers, routes and jobs call these; capabilities never do. Nothing here runs at import time, so
moto (tests, local runtime) is in place before any client is built.
"""

from __future__ import annotations

from types import ModuleType

from engage.wiring import audience, aws, campaigns, customers, delivery, inbound, metrics, segments, tagging

MODULES: tuple[ModuleType, ...] = (aws, customers, inbound, tagging, segments, campaigns, delivery, metrics, audience)

__all__ = [
    "audience",
    "aws",
    "campaigns",
    "customers",
    "delivery",
    "inbound",
    "metrics",
    "reset",
    "segments",
    "tagging",
]


def reset() -> None:
    """Forgets every built adapter and read setting (tests and the local runtime call this after
    setting up moto or changing the environment)."""
    for module in MODULES:
        for value in vars(module).values():
            if callable(value) and hasattr(value, "cache_clear"):
                value.cache_clear()
