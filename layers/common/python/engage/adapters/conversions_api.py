"""Meta's Conversions API for business messaging (httpx): `POST {graph}/{dataset_id}/events`.

One event per request, so a refusal names the event it refuses. The body is Graph's
`{"data": [event]}` with the token as `access_token`; a WhatsApp event carries
`action_source: "business_messaging"`, `messaging_channel: "whatsapp"` and, in `user_data`, the
ad click's `ctwa_clid` and our `whatsapp_business_account_id` (added here from the settings).
A success answers `{"events_received": 1, "fbtrace_id": ...}`.

What an answer means for the event (journeys.conversions): a 2xx is accepted; a timeout, a
429, a 5xx or one of Graph's transient codes is retried later; an expired or wrong token (190, 10,
200 and their 401/403) is retried too, since the event is fine and a fixed token should still
post it; any other 4xx refuses this event for good, with Graph's code and message as the reason.
"""

from __future__ import annotations

from typing import Any

import httpx

from engage.core.settings import ConversionsSettings
from engage.journeys.conversions import PostResult

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=3.0)
TRANSIENT_CODES = {1, 2, 4, 17, 32, 341, 613, 80004}  # Graph: unknown, unavailable, rate limits
TOKEN_CODES = {10, 190, 200}  # permission or token trouble: the event waits for a working token


def request_body(event: dict[str, Any], business_account_id: str) -> dict[str, Any]:
    user_data = dict(event.get("user_data") or {})
    if business_account_id:
        user_data.setdefault("whatsapp_business_account_id", business_account_id)
    return {"data": [{**event, "user_data": user_data}]}


def outcome(status: int, payload: Any) -> PostResult:
    if 200 <= status < 300:
        received = payload.get("events_received") if isinstance(payload, dict) else None
        if received == 1:
            return PostResult("accepted")
        return PostResult("retry", f"http {status} without events_received")
    error = payload.get("error") if isinstance(payload, dict) else None
    error = error if isinstance(error, dict) else {}
    code = error.get("code") if isinstance(error.get("code"), int) else 0
    subcode = error.get("error_subcode")
    reason = f"{code}{f'/{subcode}' if subcode else ''}: {str(error.get('message') or 'no error body')[:300]}"
    if status == 429 or status >= 500 or code in TRANSIENT_CODES or code in TOKEN_CODES or status in (401, 403):
        return PostResult("retry", f"http {status} {reason}")
    return PostResult("refused", f"http {status} {reason}")


class ConversionsApiClient:
    """Implements `engage.journeys.conversions.ConversionsApi`."""

    def __init__(self, settings: ConversionsSettings, access_token: str, http: httpx.Client | None = None):
        self.url = f"{settings.api_base.rstrip('/')}/{settings.dataset_id}/events"
        self.token = access_token
        self.business_account_id = settings.business_account_id
        self.http = http or httpx.Client(timeout=DEFAULT_TIMEOUT)

    def post(self, event: dict[str, Any]) -> PostResult:
        try:
            response = self.http.post(
                self.url, params={"access_token": self.token}, json=request_body(event, self.business_account_id)
            )
        except httpx.HTTPError as error:  # the URL carries the token: keep only the kind of failure
            return PostResult("retry", f"transport: {type(error).__name__}")
        try:
            payload = response.json()
        except ValueError:
            payload = None
        return outcome(response.status_code, payload)
