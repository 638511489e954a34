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
TAG_NAMES_PK = "TAGNAMES"  # TAGNAMES / <name>: a tag that has had members (tagging_memberships.note_tag_names)
TAG_NAMES_COMPLETE_SK = "#COMPLETE"  # TAGNAMES / #COMPLETE: the list holds every tag that had members before it


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


def counter_position_pk(lane: str) -> str:
    """CNTPOS#<stream shard> / P: the last stream position whose transitions are counted."""
    return f"CNTPOS#{lane}"


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


# ---------------------------------------------------------------- tuning (settings; see docs/settings.md)
SETTINGS_AREAS = {  # settings area -> (its CONFIG item, the attribute its readers take the document from)
    "sending": ("sending", "document"),
    "metrics": ("metrics", "document"),
    "tagging": ("tagging", "config"),
    "replies": ("replies", "document"),
    "customers": ("customers", "document"),
}
SETTINGS_LOG_PK = "SETTINGS#LOG"  # sk = <at>#<entry id>: every change of /v1/settings, newest last


def settings_log_sk(at: str, entry_id: str) -> str:
    return f"{at}#{entry_id}"


# ---------------------------------------------------------------- audience (customer search; docs/customers.md)
def name_index_key(search_name: str, customer_id: str) -> tuple[str, str]:
    """gsi1 of a profile with a name: NAME#<first character> / <folded name>#<id> (name prefix search)."""
    return f"NAME#{search_name[0]}", f"{search_name}#{customer_id}"


def phone_index_key(wa_id: str) -> tuple[str, str]:
    """gsi1 of a phone identity: PHONE#<first 2 digits> / <wa_id> (phone prefix search)."""
    return f"PHONE#{wa_id[:2]}", wa_id


def customers_index_pk(shard: int) -> str:
    """gsi2pk of every profile: CUSTOMERS#<shard 0-15> / <id>."""
    return f"CUSTOMERS#{shard}"


def import_pk(import_id: str) -> str:
    """IMPORT#<id> / META: the import and its counts; / CHUNK#<n>: a chunk's done marker."""
    return f"IMPORT#{import_id}"


def import_meta_sk() -> str:
    return "META"


def import_chunk_sk(chunk: int) -> str:
    return f"CHUNK#{chunk:05d}"


def imports_index_pk() -> str:
    """gsi1pk of import items: every import, by creation time."""
    return "IMPORTS"


def import_slot_key(slot: int) -> tuple[str, str]:
    """IMPORTSLOTS / SLOT#<n>: one of the hourly limit's places, holding the latest import that took it."""
    return "IMPORTSLOTS", f"SLOT#{slot}"


def import_claim_key(import_id: str, wa_id: str) -> tuple[str, str]:
    """Which row of an import took a number (spread over partitions: one per number)."""
    return f"IMPCLAIM#{import_id}#{wa_id}", "CLAIM"


def export_pk(export_id: str) -> str:
    return f"EXPORT#{export_id}"


# ---------------------------------------------------------------- rewards (coupons, referrals; docs/rewards.md)
COUPON_POOLS_PK = "COUPONPOOLS"  # COUPONPOOLS / POOL#<id>: a pool and its counters
COUPON_SK = "CODE"
COUPON_EXPIRY_SHARDS = 4
REFERRALS_PK = "REFERRALS"  # REFERRALS / STATS: the programme's counters
REFERRAL_STATS_SK = "STATS"
REFERRAL_SK = "REFERRAL"  # CUST#<id> / REFERRAL: the customer's own code and invite counts
REFERRED_BY_SK = "REFERREDBY"  # CUST#<id> / REFERREDBY: who invited the customer, and how it went
TOP_INVITERS_PK = "REFTOP"  # gsi2pk of CUST#<id> / REFERRAL once it has a successful invite


def coupon_pool_sk(pool_id: str) -> str:
    return f"POOL#{pool_id}"


def coupon_key(code: str) -> tuple[str, str]:
    """COUPON#<code> / CODE: one code (its holder, validity and redemption); unique by its key."""
    return f"COUPON#{code}", COUPON_SK


def coupon_claim_key(pool_id: str, claim: str) -> tuple[str, str]:
    """COUPONPOOL#<pool> / CLAIM#<customer>[#<reason>]: which code this claim got (idempotent issue)."""
    return f"COUPONPOOL#{pool_id}", f"CLAIM#{claim}"


def coupon_available_key(pool_id: str, code: str) -> tuple[str, str]:
    """COUPONPOOL#<pool> / AVAIL#<code>: an imported code not issued yet."""
    return f"COUPONPOOL#{pool_id}", f"AVAIL#{code}"


def coupon_expiry_index(code: str, pool_id: str, expires_at: str) -> tuple[str, str]:
    """gsi2 of an issued code: COUPONEXP#<shard> / <expires_at>#<pool>#<code> (off once redeemed or expired)."""
    return coupon_expiry_pk(sum(code.encode()) % COUPON_EXPIRY_SHARDS), f"{expires_at}#{pool_id}#{code}"


def coupon_expiry_pk(shard: int) -> str:
    return f"COUPONEXP#{shard}"


def referral_code_key(code: str) -> tuple[str, str]:
    """REFCODE#<code> / CODE: whose code it is, and whether it is locked for review."""
    return f"REFCODE#{code}", "CODE"


def referral_hour_key(code: str, hour: str) -> tuple[str, str]:
    """REFCODE#<code> / HOUR#<yyyy-mm-ddThh>: the distinct invitees of that hour (the lock rule)."""
    return f"REFCODE#{code}", f"HOUR#{hour}"


def referral_log_key(code: str, at: str, change: str) -> tuple[str, str]:
    """REFCODE#<code> / LOG#<at>#<lock|unlock>: the review log."""
    return f"REFCODE#{code}", f"LOG#{at}#{change}"


def invitees_index_pk(inviter_id: str) -> str:
    """gsi1pk of CUST#<invitee> / REFERREDBY: everyone one inviter brought."""
    return f"REFINV#{inviter_id}"


# ---------------------------------------------------------------- journeys (docs/journeys.md)
JOURNEYS_PK = "JOURNEYS"  # every journey's current version, one query


def journey_sk(journey_id: str) -> str:
    return f"JOURNEY#{journey_id}"


def journey_pk(journey_id: str) -> str:
    """JOURNEY#<id> / V#<version>, STATS#<shard>, REV#...: a journey's versions, counters and revenue ledger."""
    return f"JOURNEY#{journey_id}"


def journey_version_sk(version: int) -> str:
    return f"V#{version:06d}"


def journey_stats_sk(shard: int) -> str:
    """Counters are spread over the run shards so a busy journey has no hot item."""
    return f"STATS#{shard}"


def journey_revenue_sk(customer_id: str, run_no: int, order_id: str) -> str:
    return f"REV#{customer_id}#{run_no}#{order_id}"


def journey_run_sk(journey_id: str) -> str:
    """CUST#<id> / JRUN#<journey>: the customer's current (or last) run of the journey."""
    return f"JRUN#{journey_id}"


def journey_due_pk(shard: int) -> str:
    """gsi2pk of a run that is active or waiting (sparse); gsi2sk `<due time>#<customer>#<journey>`."""
    return f"JDUE#{shard}"


def conversion_pk(day: str) -> str:
    """CAPI#<yyyy-mm-dd> / <event id>: a conversion for Meta's Conversions API, kept once."""
    return f"CAPI#{day}"


CONVERSIONS_DUE_PK = "CAPIDUE"  # gsi2pk of an outbox event not yet sent or dropped; gsi2sk `<due>#<event id>`


def journeys_installed_sk(release: int) -> str:
    """JOURNEYS / INSTALLED#<release>: the default journeys of that release were installed once."""
    return f"INSTALLED#{release}"


# ---------------------------------------------------------------- groups (docs/groups.md)
def circle_key(circle_id: str) -> tuple[str, str]:
    return f"CIRCLE#{circle_id}", "CIRCLE"


CIRCLES_INDEX_PK = "CIRCLES"  # gsi1pk of every circle
GROUPS_INDEX_PK = "GROUPS"  # gsi2pk of every group
DUE_POSTS_INDEX_PK = "GPOSTS#DUE"  # gsi2pk of a scheduled group post (removed once claimed)


def group_pk(group_id: str) -> str:
    return f"GROUP#{group_id}"


GROUP_SK = "GROUP"


def circle_groups_index_pk(circle_id: str) -> str:
    """gsi1pk of a group: the groups of one circle, by number."""
    return f"CIRCLE#{circle_id}"


def group_number_sk(number: int) -> str:
    return f"GROUP#{number:05d}"


def group_ref_key(ref: str) -> tuple[str, str]:
    """A Groups API group id or create request id -> our group id."""
    return f"GROUPREF#{ref}", "REF"


def group_member_sk(customer_id: str) -> str:
    return f"MEMBER#{customer_id}"


def member_groups_index_pk(customer_id: str) -> str:
    """gsi1pk of a member item: the groups one customer belongs to (or was invited to)."""
    return f"GMEMBER#{customer_id}"


def group_notice_sk(event_id: str) -> str:
    return f"NOTICE#{event_id}"


def group_day_sk(day: str) -> str:
    return f"DAY#{day}"


def group_active_sk(day: str, customer_id: str) -> str:
    return f"ACT#{day}#{customer_id}"


def group_post_sk(post_id: str) -> str:
    return f"POST#{post_id}"


def group_health_sk(day: str) -> str:
    return f"HEALTH#{day}"


def group_alert_sk(key: str) -> str:
    return f"ALERT#{key}"
