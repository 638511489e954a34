"""Customer lookups for one notification in two BatchGetItem calls instead of three GetItems per sender.

`PrefetchingCustomers` wraps the `CustomerRepository`: `prefetch()` reads every identity item
of a notification at once, then every profile they point to. Each prefetched answer is served
once (then forgotten), so a retry inside `resolve_customer` or a re-read after a failed guard
always goes to the table. Build one per notification; writes go straight to the repository.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from engage.adapters.dynamo.customers import IDENTITY, PROFILE, CustomerRepository, identity_pk
from engage.adapters.dynamo.keys import customer_pk
from engage.customers.profiles import Customer


class PrefetchingCustomers:
    def __init__(self, repository: CustomerRepository):
        self.repository = repository
        self._ids: dict[str, str | None] = {}
        self._profiles: dict[str, Customer | None] = {}

    def prefetch(self, *, wa_ids: Iterable[str | None] = (), user_ids: Iterable[str | None] = ()) -> None:
        pks = [identity_pk(wa_id=w) for w in wa_ids if w] + [identity_pk(user_id=u) for u in user_ids if u]
        pks = [pk for pk in dict.fromkeys(pks) if pk not in self._ids]
        if not pks:
            return
        table = self.repository.table
        found = {item["pk"]: str(item["customer_id"]) for item in table.batch_get([(pk, IDENTITY) for pk in pks])}
        self._ids.update({pk: found.get(pk) for pk in pks})
        wanted = [cid for cid in dict.fromkeys(found.values()) if cid not in self._profiles]
        profiles = {item["id"]: item for item in table.batch_get([(customer_pk(cid), PROFILE) for cid in wanted])}
        for cid in wanted:
            item = profiles.get(cid)
            self._profiles[cid] = Customer.model_validate(item) if item else None

    # ---------------------------------------------------------------- reads: prefetched once, then the table
    def find_id(self, *, wa_id: str | None = None, user_id: str | None = None) -> str | None:
        if not wa_id and not user_id:
            return None
        pk = identity_pk(wa_id=wa_id, user_id=user_id)
        if pk in self._ids:
            return self._ids.pop(pk)
        return self.repository.find_id(wa_id=wa_id, user_id=user_id)

    def get(self, customer_id: str) -> Customer | None:
        if customer_id in self._profiles:
            return self._profiles.pop(customer_id)
        return self.repository.get(customer_id)

    # ---------------------------------------------------------------- writes: straight through
    def create(self, customer: Customer) -> bool:
        return self.repository.create(customer)

    def attach_identity(self, customer_id: str, *, wa_id: str | None = None, user_id: str | None = None) -> bool:
        return self.repository.attach_identity(customer_id, wa_id=wa_id, user_id=user_id)

    def move_identity(self, customer_id: str, *, old: dict[str, str | None], new: dict[str, str]) -> bool:
        return self.repository.move_identity(customer_id, old=old, new=new)

    def update(self, customer_id: str, **fields: Any) -> None:
        self.repository.update(customer_id, **fields)
