"""What every config model shares: strictness, the severity names, unique-name checks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

SEVERITIES = ("SEV-1", "SEV-2", "SEV-3", "SEV-4")
Severity = Literal["SEV-1", "SEV-2", "SEV-3", "SEV-4"]


class Strict(BaseModel):
    # A typo read at 03:00 must be an error that names the key, not an ignored setting;
    # and NaN or infinity is never a usable interval, threshold or rate.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class _Named(Protocol):
    name: str


N = TypeVar("N", bound=_Named)


def unique_names(items: Sequence[N], table: str) -> Sequence[N]:
    """Refuse a repeated `name` in a list of tables, naming both places."""
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        if item.name in seen:
            raise ValueError(f"{table}[{index}].name = {item.name!r} repeats {table}[{seen[item.name]}]")
        seen[item.name] = index
    return items
