"""How the name index spells a name: one form for every way of typing it."""

from __future__ import annotations

from engage.core.text import fold

MAX_SEARCH_NAME = 100


def search_name(name: str | None) -> str:
    """Case and accents folded, single spaces ('  Ásha  K' -> 'asha k'); '' when nothing is left."""
    return " ".join(fold(name or "").split())[:MAX_SEARCH_NAME]
