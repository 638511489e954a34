"""Customer profiles and identity items.

CUST#<id>        / PROFILE    the profile; gsi2 = CUSTOMERS#<shard> / <id> lists the whole base
WAID#<wa_id>     / IDENTITY   -> customer_id (unique phone identity)
USERID#<user_id> / IDENTITY   -> customer_id (unique business-scoped user id)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from engage.adapters.dynamo.keys import customer_pk, name_index_key, phone_index_key
from engage.adapters.dynamo.table import Table, Update
from engage.audience.names import search_name
from engage.customers.profiles import Customer

CUSTOMER_SHARDS = 16
PROFILE = "PROFILE"
IDENTITY = "IDENTITY"


def customer_shard(customer_id: str) -> int:
    return int(customer_id[-2:], 16) % CUSTOMER_SHARDS


def identity_pk(*, wa_id: str | None = None, user_id: str | None = None) -> str:
    return f"WAID#{wa_id}" if wa_id else f"USERID#{user_id}"


def identity_item(customer_id: str, *, wa_id: str | None = None, user_id: str | None = None) -> dict[str, Any]:
    """An identity item; a phone identity is also in the phone prefix index (gsi1)."""
    item = {"pk": identity_pk(wa_id=wa_id, user_id=user_id), "sk": IDENTITY, "type": "identity"}
    if wa_id:
        item["gsi1pk"], item["gsi1sk"] = phone_index_key(wa_id)
    return {**item, "customer_id": customer_id}


def name_index(customer_id: str, name: str | None) -> dict[str, str]:
    """The name prefix index's keys (gsi1) for a profile with this name; {} without a name."""
    folded = search_name(name)
    if not folded:
        return {}
    pk, sk = name_index_key(folded, customer_id)
    return {"gsi1pk": pk, "gsi1sk": sk}


class CustomerRepository:
    def __init__(self, table: Table):
        self.table = table

    @staticmethod
    def profile_item(customer: Customer) -> dict[str, Any]:
        return {
            "pk": customer_pk(customer.id),
            "sk": PROFILE,
            "type": "customer",
            "gsi2pk": f"CUSTOMERS#{customer_shard(customer.id)}",
            "gsi2sk": customer.id,
            **name_index(customer.id, customer.name),
            **customer.model_dump(exclude_none=True),
        }

    def get(self, customer_id: str) -> Customer | None:
        item = self.table.get(customer_pk(customer_id), PROFILE)
        return Customer.model_validate(item) if item else None

    def find_id(self, *, wa_id: str | None = None, user_id: str | None = None) -> str | None:
        if not wa_id and not user_id:
            return None
        item = self.table.get(identity_pk(wa_id=wa_id, user_id=user_id), IDENTITY)
        return item["customer_id"] if item else None

    def create(self, customer: Customer) -> bool:
        actions: list[dict[str, Any]] = [
            {"Put": {"Item": self.profile_item(customer), "ConditionExpression": "attribute_not_exists(pk)"}}
        ]
        for ident in ({"wa_id": customer.wa_id}, {"user_id": customer.user_id}):
            if next(iter(ident.values())):
                actions.append(
                    {
                        "Put": {
                            "Item": identity_item(customer.id, **ident),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    }
                )
        return self.table.transact(actions)

    def attach_identity(self, customer_id: str, *, wa_id: str | None = None, user_id: str | None = None) -> bool:
        """Claims the identity for this customer and records it on the profile."""
        field = "wa_id" if wa_id else "user_id"
        value = wa_id or user_id
        update = Update().set(**{field: value})
        return self.table.transact(
            [
                {
                    "Put": {
                        "Item": identity_item(customer_id, wa_id=wa_id, user_id=user_id),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {"Update": update.request(customer_pk(customer_id), PROFILE, "attribute_exists(pk)")},
            ]
        )

    def move_identity(self, customer_id: str, *, old: dict[str, str | None], new: dict[str, str]) -> bool:
        """Replaces one identity by another (a changed number or a new user id)."""
        field, value = next(iter(new.items()))
        actions: list[dict[str, Any]] = [
            {
                "Put": {
                    "Item": identity_item(customer_id, **new),
                    "ConditionExpression": "attribute_not_exists(pk) OR customer_id = :me",
                    "ExpressionAttributeValues": {":me": customer_id},
                }
            },
            {
                "Update": {
                    "Key": {"pk": customer_pk(customer_id), "sk": PROFILE},
                    "UpdateExpression": "SET #f = :v",
                    "ExpressionAttributeNames": {"#f": field},
                    "ExpressionAttributeValues": {":v": value},
                    "ConditionExpression": "attribute_exists(pk)",
                }
            },
        ]
        old_value = next(iter(old.values()))
        if old_value and old_value != value:
            actions.append(
                {
                    "Delete": {
                        "Key": {"pk": identity_pk(**old), "sk": IDENTITY},
                        "ConditionExpression": "attribute_not_exists(pk) OR customer_id = :me",
                        "ExpressionAttributeValues": {":me": customer_id},
                    }
                }
            )
        return self.table.transact(actions)

    def update(self, customer_id: str, **fields: Any) -> None:
        if fields.get("name"):
            fields.update(name_index(customer_id, fields["name"]))  # the name index follows the name
        self.apply(customer_id, Update().set(**fields))

    def apply(self, customer_id: str, update: Update, *, condition: str | None = None) -> bool:
        """Applies an update to an existing profile; False if it does not exist or the condition fails."""
        guard = "attribute_exists(pk)" + (f" AND ({condition})" if condition else "")
        return bool(self.table.update(customer_pk(customer_id), PROFILE, update, condition=guard))

    def all(self, shard: int | None = None) -> Iterator[Customer]:
        """The whole base (or one shard of it) through the sparse customers index."""
        shards = range(CUSTOMER_SHARDS) if shard is None else [shard]
        for k in shards:
            for item in self.table.query(f"CUSTOMERS#{k}", index="gsi2"):
                yield Customer.model_validate(item)

    def delete(self, customer: Customer) -> None:
        """Erases identities first, then everything in the customer's partition (the profile included).

        In that order an interrupted erasure never leaves an identity pointing at a missing profile;
        running it again finishes the job.
        """
        identities = [
            (identity_pk(**ident), IDENTITY)
            for ident in ({"wa_id": customer.wa_id}, {"user_id": customer.user_id})
            if next(iter(ident.values()))
        ]
        self.table.batch_delete(identities)
        self.table.batch_delete(
            (item["pk"], item["sk"]) for item in self.table.query(customer_pk(customer.id), consistent=True)
        )
