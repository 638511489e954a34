"""The settings areas and their change log.

CONFIG / <area>              the stored document each capability reads (see keys.SETTINGS_AREAS)
SETTINGS#LOG / <at>#<id>     one change of /v1/settings: who, when, each path from -> to
"""

from __future__ import annotations

import json
import time
from typing import Any

from engage.adapters.dynamo import keys
from engage.adapters.dynamo.pages import decode_cursor, encode_cursor, query_page
from engage.adapters.dynamo.table import Table


def _document(item: dict[str, Any] | None, attribute: str) -> dict[str, Any] | None:
    """The area's document; `document` may be a map or a JSON string (operators' hand edits)."""
    if not item:
        return None
    document = item.get(attribute)
    if isinstance(document, str):
        return dict(json.loads(document))
    return dict(document) if isinstance(document, dict) else None


class SettingsRepository:
    def __init__(self, table: Table, max_age: float = 60):
        self.table = table
        self.max_age = max_age
        self._country: tuple[float, str | None] | None = None

    def documents(self) -> dict[str, dict[str, Any]]:
        found = {}
        for area, (sk, attribute) in keys.SETTINGS_AREAS.items():
            document = _document(self.table.get(*keys.config_key(sk)), attribute)
            if document is not None:
                found[area] = document
        return found

    def save(self, documents: dict[str, dict[str, Any]], entry: dict[str, Any]) -> bool:
        actions: list[dict[str, Any]] = []
        for area, document in documents.items():
            sk, attribute = keys.SETTINGS_AREAS[area]
            pk, sk = keys.config_key(sk)
            item = {"pk": pk, "sk": sk, "type": "config", attribute: document, "updated_at": entry["at"]}
            actions.append({"Put": {"Item": item}})
        log = {"pk": keys.SETTINGS_LOG_PK, "sk": keys.settings_log_sk(entry["at"], entry["id"]), "type": "settings_log"}
        actions.append({"Put": {"Item": {**log, **entry}, "ConditionExpression": "attribute_not_exists(pk)"}})
        saved = self.table.transact(actions)
        self._country = None
        return saved

    def log(self, *, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        items, last = query_page(
            self.table, keys.SETTINGS_LOG_PK, forward=False, limit=limit, start_key=decode_cursor(cursor)
        )
        fields = ("id", "at", "by", "changes", "areas", "reason")
        return [{k: i[k] for k in fields if k in i} for i in items], encode_cursor(last)

    def forget(self) -> None:
        self._country = None

    def default_country(self) -> str | None:
        """The stored default country (None: not set here), re-read after `max_age` seconds."""
        if self._country is None or time.monotonic() - self._country[0] >= self.max_age:
            document = self.documents().get("customers") or {}
            self._country = (time.monotonic(), document.get("default_country"))
        return self._country[1]
