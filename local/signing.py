"""HMAC signatures the way Meta and the shop sign their webhooks (local copy, kept private to local/).

`engage/whatsapp/signature.py` verifies; the local runtime and the demo only need to sign.
"""

from __future__ import annotations

import hashlib
import hmac


def sign(body: bytes, secret: str) -> str:
    """`X-Hub-Signature-256` value: `sha256=<hex HMAC-SHA256 of the raw body>`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, header: str, secret: str) -> bool:
    return hmac.compare_digest(sign(body, secret), header or "")
