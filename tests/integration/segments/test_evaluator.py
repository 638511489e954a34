"""The evaluator on moto agrees with a naive reference (walk every customer, apply the rule)."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engage.adapters.dynamo.segments_audience import DynamoAudienceReader, TableTagCatalog
from engage.adapters.dynamo.tagging_memberships import membership_item
from engage.core.time import parse_iso
from engage.segments.evaluator import PlanCosts, evaluate
from engage.segments.rule_tree import to_json
from engage.segments.text import from_text
from tests.helpers.segments import VOCABULARY, base_items, clear, customer_id, random_base, reference, rules

NOW = parse_iso("2026-11-23T10:00:00Z")
SINCE = "2026-01-01T00:00:00Z"
CHEAP_GETS = PlanCosts()  # bounded candidates are read one by one
DEAR_GETS = PlanCosts(batch_get_rcu=1_000)  # ... or the planner prefers the parallel scan


@pytest.fixture
def table(aws):
    from engage import wiring

    return wiring.aws.table()


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rule=rules, seed=st.integers(0, 10_000), size=st.integers(0, 25), dear=st.booleans())
def test_evaluator_agrees_with_the_naive_reference(table, rule, seed, size, dear):
    # Given a random customer base (profiles, tags, order events) and its base-size estimate
    clear(table)
    people = random_base(random.Random(seed), size, NOW)
    table.batch_put(base_items(people))
    table.put({"pk": "SEGMENTS", "sk": "STATS", "base_size": size})
    # When the evaluator answers the rule
    audience = evaluate(rule, DynamoAudienceReader(table), VOCABULARY, now=NOW, costs=DEAR_GETS if dear else CHEAP_GETS)
    # Then it finds exactly who the reference finds, sorted, with the required tags they hold
    assert audience.ids == sorted(reference(to_json(rule), people, NOW))
    for cid in audience.ids:
        assert set(audience.why[cid]) <= next(p.tags for p in people if p.customer.id == cid)


def test_plans_follow_the_shape_and_the_size_of_the_rule(table):
    # Given 60 customers, all with profiles; interest:shoes held by 6, stage:purchased by 40
    people = random_base(random.Random(7), 60, NOW)
    for person in people:
        person.tags.discard("interest:shoes")
        person.tags.discard("stage:purchased")
    for n in range(6):
        people[n].tags.add("interest:shoes")
    for n in range(40):
        people[n].tags.add("stage:purchased")
    table.batch_put(base_items(people))
    table.put({"pk": "SEGMENTS", "sk": "STATS", "base_size": 60})
    reader = DynamoAudienceReader(table)

    def plan(text):
        return evaluate(from_text(text), reader, VOCABULARY, now=NOW).plan

    # Tags alone: set algebra on the index, no profile read
    assert plan("tag:interest:shoes AND NOT tag:stage:purchased")["strategy"] == "index"
    # Tags that narrow to a few candidates, then an attribute: read only those profiles
    narrow = plan("tag:interest:shoes AND total_spent >= 0")
    assert (narrow["strategy"], narrow["profiles_read"]) == ("index+profiles", 6)
    # A wide candidate set (40 of 60): one read of the customers index is cheaper
    assert plan("tag:stage:purchased AND total_spent >= 0")["strategy"] == "scan"
    # Nothing to narrow by: attribute-only, or a purely negative rule, reads the base
    assert plan("orders >= 1")["strategy"] == "scan"
    assert plan("NOT tag:interest:shoes")["strategy"] == "scan"


def test_tag_index_is_read_past_the_1mb_page(table):
    # Given 3,000 holders of one tag with ~500-byte membership items (1.5 MB in the index)
    reason = "x" * 400
    table.batch_put(
        membership_item(customer_id(n), "interest:cosmetics", since=SINCE, source="import", reason=reason)
        for n in range(3000)
    )
    # When the tag's members are read
    members = DynamoAudienceReader(table).members("interest:cosmetics")
    # Then every page is read
    assert len(members) == 3000


def test_catalog_knows_tagdef_items_and_tags_with_members_and_caches_them(table):
    # Given one catalog item without members and one tag with members but no catalog item
    table.put({"pk": "CATALOG", "sk": "TAGDEF#interest:garden", "type": "tagdef"})
    table.put(membership_item(customer_id(1), "bought:2026-11:lipstick", since=SINCE, source="rule:r1"))
    ticks = iter([0.0, 1.0, 400.0, 400.0])
    catalog = TableTagCatalog(table, ttl_seconds=300, clock=lambda: next(ticks))
    # When the names are read
    assert catalog.names() == {"interest:garden", "bought:2026-11:lipstick"}
    # Then they are cached for the TTL, then read again
    table.put({"pk": "CATALOG", "sk": "TAGDEF#interest:books", "type": "tagdef"})
    assert "interest:books" not in catalog.names()
    assert "interest:books" in catalog.names()


def test_writers_list_tag_names_and_the_catalog_reads_the_list_once_it_is_whole(table):
    from engage.adapters.dynamo.tagging_catalog import CatalogRepository, TagWriter
    from engage.adapters.dynamo.tagging_memberships import MembershipRepository
    from engage.tagging.catalog import TagChange, TagLogEntry

    # Given a membership from before the list, and one written by a tag writer
    table.put(membership_item(customer_id(1), "bought:2026-10:lipstick", since=SINCE, source="rule:r1"))
    added = TagChange(
        customer_id=customer_id(2),
        tag="bought:2026-11:mascara",
        action="add",
        source="rule:r1",
        event_id="e1",
        at=SINCE,
    )
    TagWriter(table).apply([added])
    assert table.get("TAGNAMES", "bought:2026-11:mascara") is not None
    # When the catalog first reads the names, it scans the index once and completes the list
    assert TableTagCatalog(table).names() == {"bought:2026-10:lipstick", "bought:2026-11:mascara"}
    assert table.get("TAGNAMES", "bought:2026-10:lipstick") and table.get("TAGNAMES", "#COMPLETE")
    # Then it reads the list, not the index: a membership no writer listed stays unknown, the others do not
    table.put(membership_item(customer_id(3), "bought:2026-12:unlisted", since=SINCE, source="rule:r1"))
    MembershipRepository(table).add(customer_id(4), "product:liner", since=SINCE, source="api")
    TagWriter(table).apply_batch([added.model_copy(update={"tag": "bought:2026-12:blush"})])
    names = TableTagCatalog(table).names()
    assert {"product:liner", "bought:2026-12:blush"} <= names and "bought:2026-12:unlisted" not in names
    # And a deleted tag leaves the list once its memberships are gone
    CatalogRepository(table).remove(
        "product:liner", TagLogEntry(at=SINCE, change="deleted", tag="product:liner", by="t")
    )
    assert "product:liner" not in TableTagCatalog(table).names()


def test_whole_base_read_streams_every_page_of_every_shard_and_stops_when_closed(table):
    # Given a reader whose shards each answer in 5 pages of 100 keys (the index projects keys only)
    reader = DynamoAudienceReader(table, parallel=4)

    def pages(**kwargs):
        shard = kwargs["KeyConditionExpression"]._values[1].split("#")[1]
        for page in range(5):
            yield [{"pk": f"CUST#c_{int(shard):02x}{page:02x}{n:028x}", "sk": "PROFILE"} for n in range(100)]

    reader._pages = pages  # the DynamoDB paging itself is covered by the 1 MB tests
    reader._batch_get = lambda ids: [{"id": i} for i in ids]  # the profiles, read by key
    # When the whole base is read, every profile arrives once
    ids = [c.id for c in reader.every_profile()]
    assert len(ids) == len(set(ids)) == 16 * 5 * 100
    # And a reader closed early returns without waiting for the rest
    stream = reader.every_profile()
    assert next(stream).id.startswith("c_")
    stream.close()
