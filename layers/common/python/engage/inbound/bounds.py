"""What the webhook will store: any signed body made safe to parse and to keep (docs/webhook.md, Bounds).

- `load(body)` parses JSON of any nesting: values nested deeper than `MAX_DEPTH` levels become
  null before parsing (so `json.loads` never recurses past them), lone surrogates in strings and
  keys become U+FFFD, and numbers DynamoDB cannot hold (infinite, NaN, beyond 38 digits or
  outside 1e-130..1e126) become null. It says whether anything was changed.
- `bound_data(data)` cuts a history item's `data` to size: texts to `MAX_TEXT` characters, names
  to `MAX_NAME`, any other string to `MAX_STRING`, lists to `MAX_ITEMS`, and the whole to
  `MAX_DATA_BYTES`, setting `truncated: true` when it cut anything.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 24  # levels from the notification's root (a message's own content starts at level 8)
MAX_TEXT = 4096  # WhatsApp's own limit for a text message
MAX_NAME = 256
MAX_STRING = 4096
MAX_ITEMS = 100
MAX_DATA_BYTES = 100_000  # a history item stays far below DynamoDB's 400 KB
NAMES = ("name", "username")
TEXTS = ("text", "flow_response")

_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_DYNAMO_MAX = 9.9999999999999999999999999999999999999e125
_DYNAMO_MIN = 1e-130
TOO_DEEP = None


class Loaded:
    """A parsed body and whether making it storable changed it."""

    def __init__(self, document: Any, changed: bool) -> None:
        self.document = document
        self.changed = changed


def load(body: bytes) -> Loaded:
    """Parses a body (raises ValueError when it is not JSON) into a storable document."""
    text = body.decode("utf-8", errors="replace")
    pruned = prune_depth(text, MAX_DEPTH)
    changed = pruned is not text or "\ufffd" in text

    def number(digits: str) -> int | None:
        nonlocal changed
        if len(digits) > 39:  # beyond DynamoDB's 38 digits (and Python's 4300-digit parsing limit)
            changed = True
            return None
        return int(digits)

    def constant(_: str) -> None:  # NaN, Infinity, -Infinity
        nonlocal changed
        changed = True

    try:
        document = json.loads(pruned, parse_int=number, parse_constant=constant)
    except RecursionError as error:  # unbalanced brackets that prune_depth could not close
        raise ValueError("nested too deep") from error
    clean, cleaned = sanitise(document)
    return Loaded(clean, changed or cleaned)


def prune_depth(text: str, limit: int) -> str:
    """`text` with every array or object opened deeper than `limit` replaced by null (the same
    object when nothing is that deep). Strings are skipped whole, so their brackets do not count."""
    depth = 0
    cut_from: int | None = None
    pieces: list[str] = []
    last = 0
    for token in _TOKENS.finditer(text):
        char = token.group()[0]
        if char == '"':
            continue
        if char in "[{":
            depth += 1
            if depth == limit + 1 and cut_from is None:
                cut_from = token.start()
        else:
            if depth == limit + 1 and cut_from is not None:
                pieces.append(text[last:cut_from])
                pieces.append("null")
                last = token.end()
                cut_from = None
            depth -= 1
    if not pieces:
        return text
    pieces.append(text[last:])
    return "".join(pieces)


def sanitise(value: Any) -> tuple[Any, bool]:
    """(value made storable, whether anything changed), iteratively over any nesting."""
    changed = False

    def fix(item: Any) -> Any:
        nonlocal changed
        if isinstance(item, str):
            if _SURROGATE.search(item):
                changed = True
                return _SURROGATE.sub("\ufffd", item)
            return item
        if isinstance(item, bool) or item is None:
            return item
        if isinstance(item, int | float):
            if storable_number(item):
                return item
            changed = True
            return None
        return item

    root: list[Any] = [value]
    stack: list[tuple[Any, Any]] = [(root, 0)]
    while stack:
        container, key = stack.pop()
        item = container[key]
        if isinstance(item, dict):
            fixed = {fix(k): v for k, v in item.items()}
            container[key] = fixed
            stack.extend((fixed, k) for k in fixed)
        elif isinstance(item, list):
            stack.extend((item, i) for i in range(len(item)))
        else:
            container[key] = fix(item)
    return root[0], changed


def storable_number(number: float) -> bool:
    if isinstance(number, int):
        return abs(number) < 10**38
    if not math.isfinite(number):
        return False
    magnitude = abs(number)
    return magnitude == 0 or _DYNAMO_MIN <= magnitude <= _DYNAMO_MAX


def clip(value: str | None, limit: int = MAX_STRING) -> str | None:
    return value[:limit] if value is not None and len(value) > limit else value


def bound_data(data: dict[str, Any]) -> dict[str, Any]:
    """A history item's `data` cut to the bounds above; `truncated: true` when anything was cut."""
    cut = False

    def bound(value: Any, limit: int) -> Any:
        nonlocal cut
        if isinstance(value, str):
            if len(value) > limit:
                cut = True
                return value[:limit]
            return value
        if isinstance(value, list):
            if len(value) > MAX_ITEMS:
                cut = True
            return [bound(v, MAX_STRING) for v in value[:MAX_ITEMS]]
        if isinstance(value, dict):
            if len(value) > MAX_ITEMS:
                cut = True
            return {clip(str(k), 256): bound(v, MAX_STRING) for k, v in list(value.items())[:MAX_ITEMS]}
        return value

    limits = {**dict.fromkeys(NAMES, MAX_NAME), **dict.fromkeys(TEXTS, MAX_TEXT)}
    bounded = {key: bound(value, limits.get(key, MAX_STRING)) for key, value in data.items()}
    # Still too big (a large unknown payload): drop the biggest values, the raw payload first.
    for key in sorted(bounded, key=lambda k: (k != "raw", -_size(bounded[k]))):
        if _size(bounded) <= MAX_DATA_BYTES:
            break
        if key in ("type", "wa_id", "user_id"):
            continue
        bounded[key] = None
        cut = True
    if cut:
        bounded["truncated"] = True
    return {k: v for k, v in bounded.items() if v is not None}


def _size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, default=str).encode("utf-8", errors="replace"))
