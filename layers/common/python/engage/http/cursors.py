"""Paging cursors the API hands out, sealed with an HMAC so a client can only return one we gave.

A cursor is the storage layer's resume point plus a signature over it and the listing's scope (the
route and its filters): a forged, garbled or truncated cursor, or one from another listing, is a
400 `invalid_cursor` and never reaches DynamoDB.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from engage import wiring
from engage.core.errors import Invalid

MAX_CURSOR = 4_096
_SIGNATURE_BYTES = 16


def _signature(inner: str, scope: str) -> str:
    digest = hmac.new(wiring.aws.cursor_settings().key, f"{scope}\n{inner}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:_SIGNATURE_BYTES]).decode().rstrip("=")


def seal(cursor: str | None, scope: str) -> str | None:
    """The cursor to hand out (None stays None: the last page)."""
    if cursor is None:
        return None
    return f"{cursor}.{_signature(cursor, scope)}"


def unseal(sealed: str | None, scope: str) -> str | None:
    """The storage cursor inside `sealed`, or Invalid when this API did not hand it out for `scope`."""
    if not sealed:
        return None
    inner, dot, signature = sealed.rpartition(".")
    if (
        len(sealed) > MAX_CURSOR
        or not dot
        or not sealed.isascii()
        or not hmac.compare_digest(signature.encode(), _signature(inner, scope).encode())
    ):
        raise Invalid("cursor is not one this listing returned: start again without it", code="invalid_cursor")
    return inner
