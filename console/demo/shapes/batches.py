"""A batch request from a list of ids in a JSON body: checked, applied one id at a time, and
answered with what was done and what was not (never all-or-nothing, never silently partial)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from console.demo.operations import MAX_BATCH


def each(ids: Any, field: str, apply: Callable[[str], Any], done: str = "retried") -> dict[str, list[str]]:
    """`apply` to every id; an id it raises LookupError for is reported missing."""
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise TypeError(f"{field} must be a list of ids")
    if len(ids) > MAX_BATCH:
        raise TypeError(f"at most {MAX_BATCH} {field} per request, got {len(ids)}")
    applied, missing = [], []
    for one in ids:
        try:
            apply(one)
            applied.append(one)
        except LookupError:
            missing.append(one)
    return {done: applied, "missing": missing}
