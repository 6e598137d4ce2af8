"""Turning an API's JSON into domain records, driven by the field map in the config.

No API shape is hard-coded here: `FieldMap` says where the list is and which field is
which, so pointing the console at another API is a config change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from functools import partial
from typing import Any

from console.config import FieldMap
from console.sources.http import SourceError

_MISSING = object()


def dig(body: Any, dotted: str, default: Any = _MISSING) -> Any:
    """The value at a dotted path ("data.items", "" for the body itself)."""
    value = body
    if dotted:
        for part in dotted.split("."):
            if isinstance(value, dict) and part in value:
                value = value[part]
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            elif default is not _MISSING:
                return default
            else:
                raise SourceError(f"response has no {dotted!r}")
    return value


def parse_time(value: Any) -> datetime | None:
    """ISO 8601 (with Z or offset) or epoch seconds/milliseconds → aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        seconds = value / 1000 if value > 1e11 else value  # epoch milliseconds are common too
        try:
            return datetime.fromtimestamp(seconds, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return None


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def as_text(value: Any) -> str:
    return "" if value is None else str(value)


class Records:
    """The list a `FieldMap` points at, with the clock its ages are measured against: the
    server's, or ours when the mapping says the API has none (`now = ""`)."""

    def __init__(self, body: Any, mapping: FieldMap):
        self.body = body
        self.mapping = mapping
        items = dig(body, mapping.items)
        if not isinstance(items, list):
            raise SourceError(f"{mapping.items or 'response'} is not a list")
        self.items = [item for item in items if isinstance(item, dict)]
        # An API without a clock: ages against ours (skew between the hosts shows in them).
        self.server_now = parse_time(dig(body, mapping.now, None)) if mapping.now else datetime.now(timezone.utc)

    def field(self, item: dict[str, Any], attribute: str) -> Any:
        return dig(item, self.mapping.fields.get(attribute, attribute), None)

    def rows(self) -> Iterator[Callable[[str], Any]]:
        """One accessor per list item: `get("last_heartbeat")` reads the mapped field."""
        for item in self.items:
            yield partial(self.field, item)
