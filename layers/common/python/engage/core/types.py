"""Constrained types defined once and shared by inbound, stored and output models."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, Field, PlainValidator, StringConstraints

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


# ---------------------------------------------------------------------------- customer attributes
# Free-form facts about a customer (`tier`, `size`, `vip_since`), set by the API, shop events and
# imports, stored in the profile and read by segment rules and previews. Everything here must be
# storable as it is: DynamoDB numbers hold 38 significant digits with a magnitude between 1e-130 and
# 1e126 (or 0), strings must be encodable as UTF-8, and an item holds at most 400 KB.
ATTRIBUTE_KEY_PATTERN = r"^[A-Za-z][A-Za-z0-9_.\-]{0,63}$"
MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_STRING = 1_000  # characters
MAX_ATTRIBUTES_BYTES = 16_000  # keys and values, UTF-8, per customer
DYNAMO_MAX_DIGITS = 38
DYNAMO_MAX_MAGNITUDE = Decimal("1e126")
DYNAMO_MIN_MAGNITUDE = Decimal("1e-130")


def utf8_text(value: str) -> str:
    """Refuses text that cannot be stored: lone surrogates (`"\\udb39"`) have no UTF-8 form."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError("text holds a lone surrogate (not valid Unicode)") from error
    return value


def dynamo_number(value: int | float) -> int | float:
    """Refuses a number DynamoDB cannot store exactly: inf/nan, out of range, over 38 digits."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("number must be finite")
    number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    if number == 0:
        return value
    magnitude = abs(number)
    if magnitude >= DYNAMO_MAX_MAGNITUDE or magnitude < DYNAMO_MIN_MAGNITUDE:
        raise ValueError("number must be 0 or between 1e-130 and 1e126 in magnitude")
    digits = "".join(map(str, number.as_tuple().digits)).strip("0")
    if len(digits) > DYNAMO_MAX_DIGITS:
        raise ValueError(f"number has more than {DYNAMO_MAX_DIGITS} significant digits")
    return value


def attributes_size(values: dict[str, Any]) -> dict[str, Any]:
    size = sum(len(k.encode()) + len(str(v).encode()) for k, v in values.items())
    if size > MAX_ATTRIBUTES_BYTES:
        raise ValueError(f"attributes take {size} bytes; at most {MAX_ATTRIBUTES_BYTES} are kept per customer")
    return values


def attribute_value(value: Any) -> str | int | float | bool:
    """Text, a number or true/false, each storable. Flat on purpose: an object, a list or null is
    refused, so segment rules compare plain values."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return dynamo_number(value)
    if isinstance(value, str):
        if len(value) > MAX_ATTRIBUTE_STRING:
            raise ValueError(f"text is {len(value)} characters; at most {MAX_ATTRIBUTE_STRING}")
        return utf8_text(value)
    raise ValueError("an attribute is text, a number or true/false (not an object, a list or null)")


AttributeKey = Annotated[str, StringConstraints(pattern=ATTRIBUTE_KEY_PATTERN, max_length=64)]
AttributeValue = Annotated[
    str | int | float | bool, PlainValidator(attribute_value, json_schema_input_type=str | int | float | bool)
]
Attributes = Annotated[
    dict[AttributeKey, AttributeValue], Field(max_length=MAX_ATTRIBUTES), AfterValidator(attributes_size)
]
