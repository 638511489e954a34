"""An in-memory stand-in for the segments capability's AudienceReader port."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from engage.customers.profiles import Customer


class InMemoryAudience:
    """The AudienceReader port in memory; counts what it was asked for."""

    def __init__(
        self, customers: list[Customer], tags: dict[str, set[str]], orders: dict[str, list[str]] | None = None
    ):
        self.customers = {c.id: c for c in customers}
        self.tags = tags
        self.orders = orders or {}
        self.asked: list[str] = []

    def member_sets(self, tags: Sequence[str]) -> dict[str, set[str]]:
        self.asked.append(f"tags:{','.join(tags)}")
        return {t: set(self.tags.get(t, set())) for t in tags}

    def profiles(self, ids: Sequence[str]) -> Iterator[Customer]:
        self.asked.append(f"profiles:{len(ids)}")
        return (self.customers[i] for i in ids if i in self.customers)

    def every_profile(self) -> Iterator[Customer]:
        self.asked.append("scan")
        return iter(self.customers.values())

    def base_size(self) -> int | None:
        return len(self.customers)

    def orders_between(self, customer_id: str, since: str, until: str) -> int:
        self.asked.append(f"orders:{customer_id}")
        return sum(1 for at in self.orders.get(customer_id, []) if since <= at <= until)
