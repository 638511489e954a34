"""`X-Hub-Signature-256`: HMAC-SHA256 of the raw request body with the Meta app secret.

Verify the bytes exactly as received (Meta signs its escaped-unicode JSON); never re-serialise
before checking. Several secrets may be valid at once while the app secret is rotated.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable, Mapping

HEADER = "x-hub-signature-256"
PREFIX = "sha256="


def sign(body: bytes, secret: str) -> str:
    """The header value Meta would send for `body`: `sha256=<64 lowercase hex>`."""
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, header: str | None, secrets: Iterable[str]) -> bool:
    """True when `header` is a valid signature of `body` under any of `secrets` (constant time)."""
    if not header or not header.startswith(PREFIX):
        return False
    presented = header.removeprefix(PREFIX).strip().lower().encode()
    valid = False
    for secret in secrets:
        if secret:
            expected = sign(body, secret).removeprefix(PREFIX).encode()
            # No early exit: every configured secret is compared.
            valid = hmac.compare_digest(presented, expected) or valid
    return valid


def header_value(headers: Mapping[str, str] | None) -> str | None:
    """The signature header, whatever case the gateway used."""
    for name, value in (headers or {}).items():
        if name.lower() == HEADER:
            return value
    return None


def raw_body(body: str | None, is_base64: bool) -> bytes:
    """The request body bytes as the caller sent them (API Gateway may base64-encode them)."""
    if body is None:
        return b""
    if is_base64:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            return b""
    return body.encode("utf-8")


def challenge(params: Mapping[str, str] | None, verify_token: str) -> str | None:
    """Meta's verification handshake: the `hub.challenge` to echo, or None to refuse (403)."""
    params = params or {}
    token = params.get("hub.verify_token", "")
    if params.get("hub.mode") != "subscribe" or not verify_token:
        return None
    if not hmac.compare_digest(token.encode(), verify_token.encode()):
        return None
    return params.get("hub.challenge")
