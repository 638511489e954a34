"""Every key of the single table, spelled once. See docs/data-model.md."""

from __future__ import annotations


def customer_pk(customer_id: str) -> str:
    return f"CUST#{customer_id}"


def event_sk(occurred_at: str, kind: str, event_id: str) -> str:
    """A customer's history item: sorted by time, unique by the event's own id."""
    return f"EVT#{occurred_at}#{kind}#{event_id}"


def is_event_sk(sk: object) -> bool:
    """A customer's history item (`EVT#...`)."""
    return str(sk or "").startswith("EVT#")


def tag_sk(tag: str) -> str:
    return f"TAG#{tag}"


def tag_index_pk(tag: str) -> str:
    """gsi1pk of a membership item: everyone holding `tag`."""
    return f"TAG#{tag}"


def send_sk(send_key: str) -> str:
    """One send per (customer, send key); the send key is the campaign id for campaign sends."""
    return f"SEND#{send_key}"


def is_send_sk(sk: object) -> bool:
    """A send item (`SEND#<send_key>`)."""
    return str(sk or "").startswith("SEND#")


def customer_id_of(pk: object) -> str:
    """`CUST#<id>` -> `<id>`."""
    return str(pk).removeprefix("CUST#")


def send_key_of(sk: object) -> str:
    """`SEND#<send_key>` -> `<send_key>`."""
    return str(sk).removeprefix("SEND#")


def campaign_index_pk(campaign_id: str) -> str:
    """gsi1pk of a send item: the campaign's recipients."""
    return f"CAMP#{campaign_id}"


def wamid_pointer_pk(wamid: str) -> str:
    """WAMID#<wamid> / SEND -> (customer_id, send_key), for statuses without callback data."""
    return f"WAMID#{wamid}"


def wamid_pointer_sk() -> str:
    return "SEND"


def config_key(area: str) -> tuple[str, str]:
    """CONFIG / <area>: a marketer-tunable JSON document (defaults live in pydantic models)."""
    return "CONFIG", area


def webhook_kept_pk(reason: str) -> str:
    """WEBHOOK#<REASON>: payloads the webhook could not use, kept for inspection (with a TTL)."""
    return f"WEBHOOK#{reason.upper()}"


def referral_invite_key(code: str, invitee_id: str) -> tuple[str, str]:
    """REFERRAL#<code> / INVITEE#<customer id>: a first message that carried a referral code."""
    return f"REFERRAL#{code}", f"INVITEE#{invitee_id}"


# ---------------------------------------------------------------- tagging (catalog, log, rules, pass)
CATALOG_PK = "CATALOG"
RULES_PK = "RULES"
STATS_PK = "STATS"
SHOP_STATS_SK = "SHOP"
CONFIG_PK = "CONFIG"
TAG_HEALTH_SK = "HEALTH"  # CATALOG / HEALTH: the latest tag health report (the nightly job writes it)


def tag_def_sk(tag: str) -> str:
    """CATALOG / TAGDEF#<name>: one tag definition."""
    return f"TAGDEF#{tag}"


def rule_sk(rule_id: str) -> str:
    """RULES / RULE#<id>: one tagging rule (a JSON document)."""
    return f"RULE#{rule_id}"


def tag_log_sk(at: str, tag: str, change: str, event_id: str) -> str:
    """CUST#<id> / TAGLOG#...: one change of the customer's tags, keyed by its cause (replays write it once)."""
    return f"TAGLOG#{at}#{tag}#{change}#{event_id}"


def catalog_log_sk(at: str, tag: str, change: str, event_id: str) -> str:
    """CATALOG / LOG#...: one change of the catalog."""
    return f"LOG#{at}#{tag}#{change}#{event_id}"


def tag_log_by_tag_pk(tag: str, day: str) -> str:
    """gsi1pk of log entries: one tag's changes of one day (day buckets keep partitions small)."""
    return f"TAGLOG#{tag}#{day}"


def tag_log_by_day_pk(day: str) -> str:
    """gsi2pk of log entries: every change of one day."""
    return f"TAGLOG#{day}"


def tag_log_index_sk(at: str, customer_id: str | None, change: str, event_id: str) -> str:
    return f"{at}#{customer_id or '-'}#{change}#{event_id}"


def expiry_index_pk(shard: int) -> str:
    """gsi2pk of a membership with an expiry, by customer shard (0-15); gsi2sk starts with the expiry epoch,
    so the nightly pass finds everything due with one query per shard, however long since the last run."""
    return f"EXPIRES#{shard}"


def expiry_index_sk(expires_at: int, customer_id: str, tag: str) -> str:
    return f"{expires_at:011d}#{customer_id}#{tag}"


def shop_event_pk(event_id: str) -> str:
    """SHOPEVT#<id> / EVENT: the shop event's id, claimed once (idempotency by event id)."""
    return f"SHOPEVT#{event_id}"


def pass_pk(run_id: str) -> str:
    """PASS#<run> / RUN | CUTS | STATS#<shard>#<page>: state of one nightly lifecycle pass."""
    return f"PASS#{run_id}"


# ---------------------------------------------------------------- metrics (counters, links, alerts)


def counter_pk(scope: str, shard: int) -> str:
    """A sharded counter partition: CNT#CAMP#<campaign id>#<shard> or CNT#DAY#<shard>."""
    return f"CNT#{scope}#{shard}"


def counter_mark_pk(customer_id: str, send_key: str, metric: str) -> str:
    """Exactly-once marker: this send's `metric` has been counted (TTL)."""
    return f"CNTMARK#{customer_id}#{send_key}#{metric}"


def active_campaigns_pk(day: str) -> str:
    """CNTIDX#<yyyy-mm-dd> / CAMP#<id>: campaigns with counted activity on that cohort day."""
    return f"CNTIDX#{day}"


def link_pk(code: str) -> str:
    return f"LINK#{code}"


def report_pk(campaign_id: str) -> str:
    """REPORT#<campaign id> / 24h: the campaign's 24-hour report."""
    return f"REPORT#{campaign_id}"


ALERT_OPEN_PK = "ALERT#OPEN"  # sk = <kind>#<subject>: one item while the alert is open
ALERT_LOG_PK = "ALERT#LOG"  # sk = <opened_at>#<alert id>: every alert ever opened, with its status
# ---------------------------------------------------------------- segments (see docs/segments.md)
SEGMENTS_PK = "SEGMENTS"  # SEGMENTS / SEG#<id> saved segments; SEGMENTS / STATS the base-size estimate
SEGMENT_STATS_SK = "STATS"
AUDIENCE_SUMMARY_SK = "AUDIENCE"  # CAMP#<campaign_id> / AUDIENCE: the snapshot's summary


def segment_sk(segment_id: str) -> str:
    return f"SEG#{segment_id}"


def segment_sizes_pk(segment_id: str) -> str:
    """SEG#<id> / SIZE#<yyyy-mm-dd>: the segment's size on that day (nightly)."""
    return f"SEG#{segment_id}"


def segment_size_sk(day: str) -> str:
    return f"SIZE#{day}"


# ---------------------------------------------------------------- sending (campaigns, templates, throttle)
def bucket_pk(name: str) -> str:
    """A token bucket shard: `BUCKET#<phone_number_id>#<shard>` or `BUCKET#CAMP#<campaign_id>#<shard>`."""
    return f"BUCKET#{name}"


def send_guard_sk() -> str:
    """CUST#<id> / SENDGUARD: last_sent_at, claimed conditionally (the 6-second pair limit)."""
    return "SENDGUARD"


def deferred_index_pk(shard: int) -> str:
    """gsi2pk of a deferred send item (sparse); gsi2sk is its release time (ISO)."""
    return f"DEFERRED#{shard}"


def paused_index_pk(campaign_id: str) -> str:
    """gsi2pk of a send item parked while its campaign is paused (or halted); resume re-queues them."""
    return f"PAUSED#{campaign_id}"


def campaign_pk(campaign_id: str) -> str:
    return f"CAMPAIGN#{campaign_id}"


def audience_pk(campaign_id: str) -> str:
    """CAMP#<campaign_id> / AUD#<customer_id>: who was in the campaign's audience at launch, and why."""
    return f"CAMP#{campaign_id}"


def audience_sk(customer_id: str) -> str:
    return f"AUD#{customer_id}"


def template_pk(name: str) -> str:
    return f"TEMPLATE#{name}"


def template_sk(language: str) -> str:
    """TEMPLATE#<name> / LANG#<language>: one language of a template."""
    return f"LANG#{language}"


TEMPLATES_INDEX_PK = "TEMPLATES"  # gsi2pk of every template (gsi2sk = <name>#<language>)


def tier_sk(hour_iso: str) -> str:
    """TIER / HOUR#<yyyy-mm-ddThh>: business-initiated recipients planned in that hour."""
    return f"HOUR#{hour_iso}"


def import_pk(import_id: str) -> str:
    """IMPORT#<id> / META: the import and its counts; / CHUNK#<n>: a chunk's done marker."""
    return f"IMPORT#{import_id}"


def import_meta_sk() -> str:
    return "META"


def import_chunk_sk(chunk: int) -> str:
    return f"CHUNK#{chunk:05d}"


def imports_index_pk() -> str:
    """gsi1pk of import items: every import, by creation time (the hourly limit reads it)."""
    return "IMPORTS"


def import_claim_key(import_id: str, wa_id: str) -> tuple[str, str]:
    """Which row of an import took a number (spread over partitions: one per number)."""
    return f"IMPCLAIM#{import_id}#{wa_id}", "CLAIM"


def export_pk(export_id: str) -> str:
    return f"EXPORT#{export_id}"
