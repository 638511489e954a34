"""What the sender does with each WhatsApp error (Cloud API error codes; docs/sending.md lists them)."""

from __future__ import annotations

from enum import StrEnum

from engage.delivery.outbound import GraphError


class Action(StrEnum):
    RETRY = "retry"  # nothing was sent: back to the queue with backoff
    PAIR_DEFER = "pair_defer"  # this recipient only, after 1, 4, 16, 64, 256 s
    WAIT_24H = "wait_24h"  # per-user marketing limit
    NEEDS_TEMPLATE = "needs_template"  # never retry: outside the service window
    OPT_OUT = "opt_out"  # never retry: stopped marketing, for good
    UNDELIVERABLE = "undeliverable"  # never retry: not on WhatsApp
    PAUSE_CAMPAIGN = "pause_campaign"  # the request or template is wrong: fix it first
    HALT = "halt"  # account, quality or token trouble: pause and alert a human
    SKIP = "skip"  # never retry: this recipient cannot get this message (country, experiment, type)


RETRY_CODES = {130429, 4, 80007, 131000, 131016, 1, 2, 131057}
HALT_CODES = {190, 368, 131048, 132015, 132016, 131031, 131042, 131063, 0, 10}
PAUSE_CODES = {132000, 132001, 132005, 132007, 132012, 100, 131008, 131009}
ACCOUNT_WIDE = {190, 368, 131048, 131031, 131042, 0, 10}  # every running campaign stops, not just this one
FIXED = {
    131056: Action.PAIR_DEFER,
    131049: Action.WAIT_24H,
    131047: Action.NEEDS_TEMPLATE,
    131050: Action.OPT_OUT,
    131026: Action.UNDELIVERABLE,
}
NEVER_RETRY_SKIP = {131051, 130472, 130497, 131062}  # this recipient cannot get this message


KNOWN_CODES = RETRY_CODES | HALT_CODES | PAUSE_CODES | set(FIXED) | NEVER_RETRY_SKIP
KNOWN_CODES.discard(0)  # "0" is what a body without an error code parses to, not a real AuthException


def classify(error: GraphError) -> Action:
    """The code decides (Meta: build on `code`, not on the HTTP status); without a known code,
    HTTP 429 (rate limited) and 5xx mean nothing was sent: retry with backoff."""
    code = error.code
    if error.http_status == 429 and code not in KNOWN_CODES:
        return Action.RETRY
    if code in FIXED:
        return FIXED[code]
    if code in RETRY_CODES:
        return Action.RETRY
    if code in HALT_CODES or 200 <= code <= 299:
        return Action.HALT
    if code in PAUSE_CODES:
        return Action.PAUSE_CAMPAIGN
    if code in NEVER_RETRY_SKIP:
        return Action.SKIP
    if error.http_status >= 500:
        return Action.RETRY
    return Action.PAUSE_CAMPAIGN  # any other request error: stop and let a human fix it


def account_wide(error: GraphError) -> bool:
    return error.code in ACCOUNT_WIDE or 200 <= error.code <= 299
