"""Finding customers: by name or phone prefix, tag, saved segment and consent, a page at a time.

One filter drives the read, in this order: the segment (its audience, evaluated once per page, in id
order), the name or phone prefix (their indexes), the tag (its membership index), else the whole
base (the customers index, shard by shard). The other filters are checked on each candidate. A page
reads at most `MAX_EXAMINED` candidates: a rare combination (a common tag, a scarce consent) may
answer fewer customers than asked for, with a cursor to go on; docs/customers.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import ConfigDict

from engage.audience.names import search_name
from engage.core.errors import Invalid
from engage.customers.profiles import Customer
from engage.segments.evaluator import evaluate
from engage.segments.ports import AudienceReader, SegmentStore, TagNames
from engage.segments.service import checked_rule, get_segment

MAX_EXAMINED = 1000  # candidates one page may read (profiles by BatchGetItem, 100 a request)
MAX_LIMIT = 200
Path = Literal["name", "phone", "tag", "all"]

# Lifecycle stages, the most telling first (a customer can hold `lifecycle:new` and `lifecycle:pre-churn`).
STAGE_ORDER = ("lost", "churned", "pre-churn", "dormant", "growth-high", "growth-low", "new", "active")


class Profile(Customer):
    """The stored profile with what the nightly pass keeps on it: RFM scores and the tags it set."""

    model_config = ConfigDict(extra="ignore")

    rfm: dict[str, Any] | None = None
    clock_tags: list[str] = []


class CustomerDirectory(Protocol):
    """The indexes a search walks (docs/data-model.md, "Customer search")."""

    def candidates(self, path: Path, value: str | None, after: str | None, limit: int) -> list[tuple[str, str]]:
        """Up to `limit` (position, customer id) in the path's order, after position `after`."""
        ...

    def profiles(self, customer_ids: Sequence[str]) -> dict[str, Profile]: ...

    def holders(self, tag: str, customer_ids: Sequence[str]) -> set[str]:
        """Which of these customers hold `tag` now."""
        ...


@dataclass(frozen=True)
class SearchPorts:
    directory: CustomerDirectory
    segments: SegmentStore
    reader: AudienceReader
    catalog: TagNames


@dataclass(frozen=True)
class Query:
    q: str | None = None
    tag: str | None = None
    segment_id: str | None = None
    consent: bool | None = None
    limit: int = 50

    def scope(self) -> str:
        """What a cursor is bound to: a cursor of one search is refused by another."""
        return f"customers|{self.q or ''}|{self.tag or ''}|{self.segment_id or ''}|{self.consent}"


# ---------------------------------------------------------------- what q means
PHONE_TEXT = re.compile(r"^\+?[0-9 ()./-]+$")


def phone_digits(q: str, country_code: int | None) -> str:
    """The wa_id prefix a typed number stands for: '+49 151' -> '49151', '0049 151' -> '49151', and in
    national form ('0151') read in the default country ('49151')."""
    digits = re.sub(r"\D", "", q)
    if q.strip().startswith("+"):
        return digits
    if digits.startswith("00"):
        return digits[2:]
    if digits.startswith("0") and country_code:
        return f"{country_code}{digits[1:]}"
    return digits


def parse_q(q: str, country_code: int | None) -> tuple[Path, str]:
    """('phone', digits) for a number, ('name', folded prefix) for anything else."""
    text = q.strip()
    if PHONE_TEXT.match(text) and any(c.isdigit() for c in text):
        digits = phone_digits(text, country_code)
        if not digits:
            raise Invalid(f"q={q!r} is not the start of a phone number", code="bad_query")
        return "phone", digits
    name = search_name(text)
    if not name:
        raise Invalid("q must hold at least one letter or digit", code="bad_query")
    return "name", name


# ---------------------------------------------------------------- the customer as the API shows it
def lifecycle_of(tags: Iterable[str]) -> dict[str, Any]:
    """The lifecycle dimensions a customer's tags say: stage(s), activity, frequency, value, RFM group."""
    names = list(tags)

    def values(dimension: str) -> list[str]:
        return sorted(t.split(":", 1)[1] for t in names if t.startswith(f"{dimension}:"))

    stages = values("lifecycle")
    ranked = sorted(stages, key=lambda s: STAGE_ORDER.index(s) if s in STAGE_ORDER else len(STAGE_ORDER))
    value = [v for v in values("value") if v in ("high", "mid", "low")]
    return {
        "stage": ranked[0] if ranked else None,
        "stages": stages,
        "activity": next(iter(values("activity")), None),
        "frequency": next(iter(values("frequency")), None),
        "value": value[0] if value else None,
        "rfm_group": next(iter(values("rfm")), None),
    }


def summary(profile: Profile) -> dict[str, Any]:
    """One customer in a list: the profile, RFM scores and lifecycle (from the tags the nightly pass set)."""
    out = profile.model_dump(exclude={"clock_tags", "attributes"})
    out["attributes"] = profile.attributes
    out["lifecycle"] = lifecycle_of(profile.clock_tags)
    return out


# ---------------------------------------------------------------- the search
def _segment_members(ports: SearchPorts, segment_id: str, now: datetime) -> list[str]:
    segment = get_segment(segment_id, store=ports.segments, sizes=0)
    node, known = checked_rule(segment["rule"], ports.catalog)
    return evaluate(node, ports.reader, known, now=now).ids  # sorted by id


def _matches(query: Query, q: tuple[Path, str] | None, profile: Profile) -> bool:
    """The filters the driving index did not apply: consent, and q when the segment drives."""
    if query.consent is not None and profile.consent.marketing is not query.consent:
        return False
    if q is not None:
        kind, value = q
        field = profile.wa_id if kind == "phone" else search_name(profile.name)
        if not (field or "").startswith(value):
            return False
    return True


def search(
    query: Query,
    ports: SearchPorts,
    *,
    after: str | None,
    now: datetime,
    country_code: int | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of customers and the position to resume from (None: no more)."""
    if not 1 <= query.limit <= MAX_LIMIT:
        raise Invalid(f"limit must be between 1 and {MAX_LIMIT}", code="bad_query")
    q = parse_q(query.q, country_code) if query.q else None
    members = _segment_members(ports, query.segment_id, now) if query.segment_id else None
    path: Path = q[0] if q else ("tag" if query.tag else "all")
    value = q[1] if q else query.tag
    q_after = q if members is not None else None  # q drives the read unless a segment does
    tag_after = bool(query.tag) and (path != "tag" or members is not None)
    found: list[dict[str, Any]] = []
    examined = 0
    position = after
    while len(found) < query.limit and examined < MAX_EXAMINED:
        want = min(max(query.limit - len(found), 25), MAX_EXAMINED - examined, 100)
        if members is not None:
            ids = [m for m in members if position is None or m > position][:want]
            chunk = [(m, m) for m in ids]
        else:
            chunk = ports.directory.candidates(path, value, position, want)
        if not chunk:
            return found, None
        examined += len(chunk)
        profiles = ports.directory.profiles([cid for _, cid in chunk])
        holders = ports.directory.holders(query.tag, list(profiles)) if query.tag and tag_after else None
        for spot, cid in chunk:
            position = spot
            profile = profiles.get(cid)
            if profile is None or (holders is not None and cid not in holders):
                continue  # erased in between, or without the tag
            if _matches(query, q_after, profile):
                found.append(summary(profile))
                if len(found) == query.limit:
                    break
        if len(chunk) < want and chunk[-1][0] == position:
            return found, None  # the path ran out
    return found, position
