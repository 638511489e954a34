"""How codes are made and read back: unguessable, unambiguous, case- and space-insensitive."""

from __future__ import annotations

import csv
import io
import re
import secrets

# No 0/O, 1/I/L: a code read aloud or typed from a parcel card cannot be mistaken.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
RANDOM_LENGTH = 8  # 31^8 ≈ 8.5e11 codes per prefix: guessing one live code is hopeless
CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{3,39}$")
MAX_IMPORT_CODES = 10_000


def random_part(length: int = RANDOM_LENGTH) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def new_coupon_code(prefix: str = "") -> str:
    """`<PREFIX>-<8 random>` (or just the random part without a prefix)."""
    body = random_part()
    return f"{prefix}-{body}" if prefix else body


def new_referral_code() -> str:
    """Letters and digits only: the webhook reads `ref CODE` from a customer's first message."""
    return random_part()


def normalise(code: str) -> str:
    """What the customer typed or the shop sent, as stored: upper case, no spaces around."""
    return "".join(code.split()).upper()


def is_code(code: str) -> bool:
    return bool(CODE_PATTERN.match(code))


def parse_codes_csv(text: str) -> tuple[list[str], list[str]]:
    """Codes from the shop's CSV export: the first column (a `code` header is skipped), upper-cased
    and de-duplicated; a value with inner spaces or other characters is rejected, not guessed at.
    Returns (codes, rejected values)."""
    codes: dict[str, None] = {}
    rejected: list[str] = []
    for row in csv.reader(io.StringIO(text)):
        if not row or not row[0].strip():
            continue
        value = row[0].strip().upper()
        if value in ("CODE", "COUPON", "COUPON_CODE"):
            continue
        if is_code(value):
            codes[value] = None
        else:
            rejected.append(row[0][:60])
    return list(codes), rejected
