"""Event-source `FilterCriteria`, locally: the EventBridge pattern subset Lambda filters use.

A pattern is a JSON object; each key must be present in the record and its value must match:
a nested object recurses, a list matches if any of its items does (exact values, or one of the
operators `prefix`, `suffix`, `anything-but`, `exists`, `equals-ignore-case`, `numeric`). Several
filters in one event source are OR-ed. Unsupported operators raise, so a typo never silently matches.
"""

from __future__ import annotations

import json
from typing import Any

_MISSING = object()


def matches(pattern: dict[str, Any], event: Any) -> bool:
    if not isinstance(event, dict):
        return False
    for key, wanted in pattern.items():
        value = event.get(key, _MISSING)
        if isinstance(wanted, dict):
            if value is _MISSING or not matches(wanted, value):
                return False
        elif isinstance(wanted, list):
            if not _any_rule(wanted, value):
                return False
        else:
            raise ValueError(f"pattern value for {key!r} must be an object or a list")
    return True


def _any_rule(rules: list[Any], value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    for rule in rules:
        if isinstance(rule, dict):
            if _operator(rule, value, values):
                return True
        elif value is not _MISSING and rule in values:
            return True
    return False


def _operator(rule: dict[str, Any], value: Any, values: list[Any]) -> bool:
    (name, arg), *rest = rule.items()
    if rest:
        raise ValueError(f"one operator per rule: {rule}")
    if name == "exists":
        return (value is not _MISSING) == bool(arg)
    if value is _MISSING:
        return False
    if name == "prefix":
        return any(isinstance(v, str) and v.startswith(_text(arg)) for v in values)
    if name == "suffix":
        return any(isinstance(v, str) and v.endswith(_text(arg)) for v in values)
    if name == "equals-ignore-case":
        return any(isinstance(v, str) and v.lower() == str(arg).lower() for v in values)
    if name == "anything-but":
        return _anything_but(arg, values)
    if name == "numeric":
        return any(_numeric(arg, v) for v in values)
    raise ValueError(f"filter operator {name!r} is not supported locally")


def _text(arg: Any) -> str:
    if isinstance(arg, dict) and "equals-ignore-case" in arg:
        return str(arg["equals-ignore-case"])
    return str(arg)


def _anything_but(arg: Any, values: list[Any]) -> bool:
    if isinstance(arg, dict) and "prefix" in arg:
        return all(not (isinstance(v, str) and v.startswith(arg["prefix"])) for v in values)
    excluded = arg if isinstance(arg, list) else [arg]
    return all(v not in excluded for v in values)


def _numeric(arg: list[Any], value: Any) -> bool:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    checks = {
        "=": lambda a: number == a,
        ">": lambda a: number > a,
        ">=": lambda a: number >= a,
        "<": lambda a: number < a,
        "<=": lambda a: number <= a,
    }
    return all(checks[arg[i]](float(arg[i + 1])) for i in range(0, len(arg), 2))


def compile_filters(filter_criteria: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The JSON patterns of a `FilterCriteria` block (an empty list lets everything through)."""
    filters = (filter_criteria or {}).get("Filters") or []
    return [json.loads(f["Pattern"]) if isinstance(f["Pattern"], str) else f["Pattern"] for f in filters]


def passes(filters: list[dict[str, Any]], record: dict[str, Any]) -> bool:
    return not filters or any(matches(p, record) for p in filters)
