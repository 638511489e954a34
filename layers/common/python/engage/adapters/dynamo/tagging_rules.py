"""Tagging rules, one item each: RULES / RULE#<id> holding the rule's JSON.

RULES / INSTALLED marks that the default rules were installed once (first run), so a default a
marketer deleted or edited is never put back behind their back.
"""

from __future__ import annotations

import time
from typing import Any

from engage.adapters.dynamo.keys import RULES_PK, rule_sk
from engage.adapters.dynamo.table import Table
from engage.tagging.rules import Rule, parse_rule

INSTALLED_SK = "INSTALLED"


class RuleRepository:
    def __init__(self, table: Table, *, max_age: float = 60.0):
        self.table = table
        self.max_age = max_age
        self._cache: tuple[float, list[Rule]] | None = None

    def all(self) -> list[Rule]:
        items = self.table.query(RULES_PK, sk_prefix="RULE#", consistent=True)
        return [parse_rule(item["rule"]) for item in items]

    def enabled(self) -> list[Rule]:
        """The enabled rules, cached for `max_age` seconds per process (writes here clear the cache)."""
        if self._cache and time.monotonic() - self._cache[0] < self.max_age:
            return self._cache[1]
        rules = [r for r in self.all() if r.enabled]
        self._cache = (time.monotonic(), rules)
        return rules

    def get(self, rule_id: str) -> Rule | None:
        item = self.table.get(RULES_PK, rule_sk(rule_id))
        return parse_rule(item["rule"]) if item else None

    def _item(self, rule: Rule, now: str, by: str) -> dict[str, Any]:
        return {
            "pk": RULES_PK,
            "sk": rule_sk(rule.id),
            "type": "rule",
            "rule": rule.model_dump(mode="json"),
            "updated_at": now,
            "updated_by": by,
        }

    def create(self, rule: Rule, *, now: str, by: str) -> bool:
        self._cache = None
        return self.table.put(self._item(rule, now, by), if_absent=True)

    def save(self, rule: Rule, *, now: str, by: str) -> None:
        self._cache = None
        self.table.put(self._item(rule, now, by))

    def delete(self, rule_id: str) -> None:
        self._cache = None
        self.table.delete(RULES_PK, rule_sk(rule_id))

    def installed(self) -> bool:
        return self.table.get(RULES_PK, INSTALLED_SK) is not None

    def mark_installed(self, now: str, version: int) -> bool:
        return self.table.put({"pk": RULES_PK, "sk": INSTALLED_SK, "at": now, "version": version}, if_absent=True)
