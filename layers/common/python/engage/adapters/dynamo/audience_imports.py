"""Imports and exports of the audience capability, and the batched customer writes an import makes.

IMPORT#<id>            / META        the import: state, counts (ADDed per chunk); gsi1 = IMPORTS / <created_at>
IMPORT#<id>            / CHUNK#<n>   a chunk's done marker, written with its counts in one transaction
IMPCLAIM#<id>#<wa_id>  / CLAIM       the row that took the number, its outcome and customer (TTL 7 days)
IMPORTSLOTS            / SLOT#<n>    the hourly limit: n < 3 places, each holding the latest import that took it
EXPORT#<id>            / META        a segment export: state, rows, the file's key
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engage.adapters.dynamo.customers import (
    IDENTITY,
    PROFILE,
    CustomerRepository,
    identity_item,
    identity_pk,
    name_index,
)
from engage.adapters.dynamo.keys import (
    customer_pk,
    export_pk,
    import_chunk_sk,
    import_claim_key,
    import_meta_sk,
    import_pk,
    import_slot_key,
    imports_index_pk,
    tag_index_pk,
)
from engage.adapters.dynamo.segments_audience import TableTagCatalog
from engage.adapters.dynamo.table import TRANSACT_LIMIT, Table, Update
from engage.audience.imports import Claim, ImportJob, Tally
from engage.customers.profiles import Customer

META = import_meta_sk()


class ImportRepository:
    def __init__(self, table: Table):
        self.table = table

    def create(self, job: ImportJob, *, since: str, per_window: int) -> bool:
        """The import takes one of `per_window` places whose import was created before `since` (or
        that is free), in one transaction with the import item. A place is held for the window by
        the import that took it, so places taken at or after `since` are exactly the imports in the
        window, and two starts racing for the last place cannot both win its condition."""
        item = {
            "pk": import_pk(job.id),
            "sk": META,
            "type": "import",
            "gsi1pk": imports_index_pk(),
            "gsi1sk": f"{job.created_at}#{job.id}",
            **job.model_dump(exclude_none=True),
        }
        for slot in range(per_window):
            pk, sk = import_slot_key(slot)
            place = {"pk": pk, "sk": sk, "type": "import_slot", "import_id": job.id, "created_at": job.created_at}
            if self.table.transact(
                [
                    {
                        "Put": {
                            "Item": place,
                            "ConditionExpression": "attribute_not_exists(pk) OR created_at < :since",
                            "ExpressionAttributeValues": {":since": since},
                        }
                    },
                    {"Put": {"Item": item, "ConditionExpression": "attribute_not_exists(pk)"}},
                ]
            ):
                return True
        return False

    def get(self, import_id: str) -> ImportJob | None:
        item = self.table.get(import_pk(import_id), META)
        if not item:
            return None
        failed = {k.removeprefix("failed_"): int(v) for k, v in item.items() if k.startswith("failed_")}
        return ImportJob.model_validate({**item, "failed": failed})

    def save(self, import_id: str, **fields: Any) -> None:
        self.table.update(import_pk(import_id), META, Update().set(**fields))

    def claims(self, import_id: str, wa_ids: Sequence[str]) -> dict[str, Claim]:
        items = self.table.batch_get([import_claim_key(import_id, w) for w in wa_ids])
        return {
            i["wa_id"]: Claim(i["wa_id"], int(i["row"]), i["outcome"], i["customer_id"]) for i in items if "wa_id" in i
        }

    def put_claims(self, import_id: str, claims: Sequence[Claim], *, expires_at: int) -> None:
        self.table.batch_put(
            {
                "pk": import_claim_key(import_id, c.wa_id)[0],
                "sk": import_claim_key(import_id, c.wa_id)[1],
                "wa_id": c.wa_id,
                "row": c.row,
                "outcome": c.outcome,
                "customer_id": c.customer_id,
                "expires_at": expires_at,
            }
            for c in claims
        )

    def finish_chunk(self, import_id: str, chunk: int, tally: Tally) -> bool:
        counts: dict[str, int] = {
            "processed": tally.processed,
            "imported": tally.imported,
            "updated": tally.updated,
            "duplicates": tally.duplicates,
            "chunks_done": 1,
            **{f"failed_{reason}": n for reason, n in tally.failed.items() if n},
        }
        update = Update().add(**counts)
        return self.table.transact(
            [
                {
                    "Put": {
                        "Item": {"pk": import_pk(import_id), "sk": import_chunk_sk(chunk), "type": "import_chunk"},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {"Update": update.request(import_pk(import_id), META)},
            ]
        )


class ImportTagNames:
    """Tag names for imports: the catalog's definitions, and whether a tag has members now, one
    one-item Query of its membership index partition per name asked (instead of the catalog's scan
    of every membership, which grows with the audience and is repeated by each worker container)."""

    def __init__(self, table: Table):
        self.table = table
        self.catalog = TableTagCatalog(table, discover_members=False)

    def names(self) -> set[str]:
        return self.catalog.names()

    def has_members(self, name: str) -> bool:
        return next(iter(self.table.query(tag_index_pk(name), index="gsi1", limit=1)), None) is not None


class ImportCustomerWriter:
    """Customer reads in batches of 100 and writes in transactions of up to 100 items: a transaction
    that loses a race (a number taken meanwhile) is retried customer by customer."""

    def __init__(self, table: Table, customers: CustomerRepository):
        self.table = table
        self.customers = customers

    def identities(self, wa_ids: Sequence[str]) -> dict[str, str]:
        items = self.table.batch_get([(identity_pk(wa_id=w), IDENTITY) for w in wa_ids])
        return {str(i["pk"]).removeprefix("WAID#"): i["customer_id"] for i in items}

    def profiles(self, customer_ids: Sequence[str]) -> dict[str, Customer]:
        items = self.table.batch_get([(customer_pk(c), PROFILE) for c in customer_ids])
        return {i["id"]: Customer.model_validate(i) for i in items}

    def _create_actions(self, customer: Customer) -> list[dict[str, Any]]:
        return [
            {"Put": {"Item": self.customers.profile_item(customer), "ConditionExpression": "attribute_not_exists(pk)"}},
            {
                "Put": {
                    "Item": identity_item(customer.id, wa_id=customer.wa_id),  # in the phone search index
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]

    def create_many(self, customers: Sequence[Customer]) -> list[Customer]:
        taken: list[Customer] = []
        per = TRANSACT_LIMIT // 2
        for start in range(0, len(customers), per):
            group = customers[start : start + per]
            if self.table.transact([a for c in group for a in self._create_actions(c)]):
                continue
            taken += [c for c in group if not self.customers.create(c)]
        return taken

    def update_many(self, updates: Sequence[tuple[str, dict[str, Any]]]) -> None:
        actions = [
            {"Update": _profile_update(customer_id, _with_name_index(customer_id, fields))}
            for customer_id, fields in updates
            if fields
        ]
        for start in range(0, len(actions), TRANSACT_LIMIT):
            group = actions[start : start + TRANSACT_LIMIT]
            if not self.table.transact(group):
                for action in group:  # one was erased meanwhile: write the others
                    self.table.transact([action])


def _with_name_index(customer_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    """A new name moves the profile in the name search index too."""
    return {**fields, **name_index(customer_id, fields["name"])} if fields.get("name") else fields


def _profile_update(customer_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    """`SET field = value` and `SET attributes.key = value` (the map exists on every profile)."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    parts: list[str] = []
    for index, (path, value) in enumerate(fields.items()):
        if path.startswith("attributes."):
            names["#attributes"] = "attributes"
            names[f"#k{index}"] = path.removeprefix("attributes.")
            parts.append(f"#attributes.#k{index} = :v{index}")
        else:
            names[f"#k{index}"] = path
            parts.append(f"#k{index} = :v{index}")
        values[f":v{index}"] = value
    return {
        "Key": {"pk": customer_pk(customer_id), "sk": PROFILE},
        "UpdateExpression": "SET " + ", ".join(parts),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
        "ConditionExpression": "attribute_exists(pk)",
    }


class ExportRepository:
    def __init__(self, table: Table):
        self.table = table

    def create(self, export: dict[str, Any]) -> None:
        self.table.put({"pk": export_pk(export["id"]), "sk": META, "type": "export", **export}, if_absent=True)

    def get(self, export_id: str) -> dict[str, Any] | None:
        item = self.table.get(export_pk(export_id), META)
        return {k: v for k, v in item.items() if k not in ("pk", "sk", "type")} if item else None

    def save(self, export_id: str, **fields: Any) -> None:
        self.table.update(export_pk(export_id), META, Update().set(**fields))
