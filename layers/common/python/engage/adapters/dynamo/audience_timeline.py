"""A customer's timeline from their partition: history items, tag changes and sends.

CUST#<id> / EVT#<time>#<kind>#<id>                  read newest first, lazily (time order is key order)
CUST#<id> / TAGLOG#<at>#<tag>#<change>#<cause>      the same
CUST#<id> / SEND#<send key>                         read whole (a handful a month) and sorted by time
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from engage.adapters.dynamo.keys import customer_pk
from engage.adapters.dynamo.table import Table

PAGE = 50  # items a request: a timeline page of 50 reads about one page of each kind
MAX_SENDS = 2000


class DynamoHistory:
    def __init__(self, table: Table):
        self.table = table

    def _newest_first(self, customer_id: str, prefix: str, until: str | None) -> Iterator[Mapping[str, Any]]:
        upper = f"{prefix}{until}#~" if until else f"{prefix}~"
        return self.table.query(customer_pk(customer_id), sk_between=(prefix, upper), forward=False, page_size=PAGE)

    def events(self, customer_id: str, until: str | None) -> Iterator[Mapping[str, Any]]:
        return self._newest_first(customer_id, "EVT#", until)

    def tag_changes(self, customer_id: str, until: str | None) -> Iterator[Mapping[str, Any]]:
        return self._newest_first(customer_id, "TAGLOG#", until)

    def sends(self, customer_id: str) -> list[Mapping[str, Any]]:
        return list(self.table.query(customer_pk(customer_id), sk_prefix="SEND#", limit=MAX_SENDS))
