"""The ports the customers capability owns; adapters implement them, tests use fakes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from engage.customers.profiles import Customer


class CustomerStore(Protocol):
    def get(self, customer_id: str) -> Customer | None: ...

    def find_id(self, *, wa_id: str | None = None, user_id: str | None = None) -> str | None: ...

    def create(self, customer: Customer) -> bool:
        """Creates profile and identity items at once; False if an identity is already taken."""
        ...

    def attach_identity(self, customer_id: str, *, wa_id: str | None = None, user_id: str | None = None) -> bool: ...

    def update(self, customer_id: str, **fields: Any) -> None: ...


class IdentityStore(CustomerStore, Protocol):
    def move_identity(self, customer_id: str, *, old: dict[str, str | None], new: dict[str, str]) -> bool:
        """Replaces one identity by another; False if the new one belongs to someone else."""
        ...
