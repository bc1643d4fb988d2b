"""Names of database objects managed by hand (full-text search), hidden from autogenerate."""

from __future__ import annotations

SEARCH_PREFIX = "search_"


def is_search_object(name: str | None, type_: str) -> bool:
    return bool(name) and str(name).startswith(SEARCH_PREFIX)
