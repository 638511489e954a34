"""The send item: one per (customer, send key), the record of what happened to one job.

States: `intent` (written before the API call), `sent`, `deferred` (waiting for a time, a
release, or a paused campaign), `retrying` (a retryable error; the queue holds the job),
`refused` (for good, with a reason), `failed` (not retried: a request error or an unknown
outcome past its grace). Status fields (`status`, `*_at`) are written by the webhook.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

State = Literal["intent", "sent", "deferred", "retrying", "refused", "failed"]
OPEN_STATES = ("deferred", "retrying")  # a job may (re)start from these
DONE_STATES = ("sent", "refused", "failed")


class SendItem(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: Literal["send"] = "send"
    customer_id: str
    send_key: str
    campaign_id: str | None = None
    variant: str | None = None
    category: str = "marketing"
    content: str = "promotional"
    urgent: bool = False
    segment_id: str | None = None
    state: State
    reason: str | None = None
    job: dict[str, Any] | None = None  # the job to re-queue (deferred and parked items)
    release_at: str | None = None  # deferred: when the release job re-queues it (indexed)
    parked: bool = False  # deferred because the campaign is paused (indexed per campaign)
    intent_at: str | None = None
    sent_at: str | None = None
    wamid: str | None = None
    wa_id: str | None = None
    to: str | None = None
    status: str | None = None
    status_rank: int | None = None
    error_code: int | None = None
    error_title: str | None = None
    fbtrace_id: str | None = None
    retryable: bool | None = None
    pair_retries: int = 0
    deferred_once: bool | None = None  # deferred at least once: counted as one deferral, whatever follows
    updated_at: str | None = None

    def seen(self, name: str) -> bool:
        """Whether the item holds `name`: a status or reply time the webhook set (`delivered_at`,
        `read_at`, `replied_at`), or a link click's (`clicked_at`)."""
        return bool(getattr(self, name, None))

    @property
    def was_read(self) -> bool:
        """Read by the customer: a read time, or the read status (a `played` is stored as read)."""
        return self.seen("read_at") or self.status == "read"


def stored(item: dict[str, Any] | None) -> SendItem | None:
    """A send item read back (its storage keys already left behind by the store), or None."""
    if not item:
        return None
    return SendItem.model_validate(item)
