"""Customer profiles for a whole send batch in one BatchGetItem (the sender's prefetch)."""

from __future__ import annotations

from engage.adapters.dynamo.customers import PROFILE
from engage.adapters.dynamo.keys import customer_pk
from engage.adapters.dynamo.table import Table
from engage.customers.profiles import Customer


class ProfileReader:
    def __init__(self, table: Table):
        self.table = table

    def get_many(self, customer_ids: list[str]) -> dict[str, Customer]:
        keys = [(customer_pk(cid), PROFILE) for cid in dict.fromkeys(customer_ids) if cid]
        return {item["id"]: Customer.model_validate(item) for item in self.table.batch_get(keys)}
