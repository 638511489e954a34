"""Constrained types defined once and shared by inbound, stored and output models."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import StringConstraints

# WhatsApp's phone-based id: E.164 digits without the '+'.
WaId = Annotated[str, StringConstraints(pattern=r"^[1-9]\d{6,14}$")]
# Business-scoped user id (BSUID), e.g. "SG.1000000000000000005".
UserId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2,8}\.[A-Za-z0-9.]{1,240}$")]
CustomerId = Annotated[str, StringConstraints(pattern=r"^c_[0-9a-f]{32}$")]
# Normalised `dimension:value` tag names, lower case, one spelling per meaning.
TagName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*(:[a-z0-9][a-z0-9._-]*)+$", max_length=120),
]

_WA_ID = re.compile(r"[1-9]\d{6,14}")
_USER_ID = re.compile(r"[A-Za-z]{2,8}\.[A-Za-z0-9.]{1,240}")


def is_wa_id(value: str) -> bool:
    """E.164 digits without '+', as WhatsApp's `wa_id` (the pattern of `WaId`)."""
    return bool(_WA_ID.fullmatch(value))


def is_user_id(value: str) -> bool:
    """A business-scoped user id (the pattern of `UserId`)."""
    return bool(_USER_ID.fullmatch(value))
