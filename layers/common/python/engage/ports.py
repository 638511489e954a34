"""The ports the domain owns. Adapters in `engage.adapters` implement them; tests use fakes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from datetime import datetime

    from engage.customers import Customer


class CustomerStore(Protocol):
    def get(self, customer_id: str) -> Customer | None: ...

    def find_id(self, *, wa_id: str | None = None, user_id: str | None = None) -> str | None: ...

    def create(self, customer: Customer) -> bool:
        """Creates profile and identity items at once; False if an identity is already taken."""
        ...

    def attach_identity(self, customer_id: str, *, wa_id: str | None = None, user_id: str | None = None) -> bool: ...

    def update(self, customer_id: str, **fields: Any) -> None: ...


class Queue(Protocol):
    def send(self, bodies: list[dict[str, Any]], *, delay_seconds: int = 0) -> None:
        """Sends every body (batched by the adapter); raises if any could not be queued."""
        ...


class LinkShortener(Protocol):
    def shorten(
        self,
        customer_id: str,
        campaign_id: str | None,
        variant: str | None,
        label: str,
        target: str,
        now: datetime,
    ) -> str:
        """A short tracked URL (`<base>/r/<code>`) for `target`; raises `Invalid` for a bad target.

        The link belongs to the customer's send of `campaign_id` (its send key); an optional
        keyword `send_key=` names another send."""
        ...


class Alerts(Protocol):
    def publish(self, alert: dict[str, Any]) -> None:
        """Tells the operators (the alerts topic); raises if it could not."""
        ...
