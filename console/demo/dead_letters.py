"""The demo's dead-letter queue: compact, pageable newest-first, cheap at a million entries.

Preloaded entries are never stored: entry i is computed from i when a page asks for it,
so a 1,000,000-entry queue costs a few counters, not a million dicts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from console.demo.scenarios import INVALID_INPUT, PROVIDER_429, PROVIDER_503, PROVIDER_TIMEOUT, STORAGE_WRITE

TENANTS = ("t-acme", "t-globex", "t-initech", "t-umbrella")
PRESETS = ("lecture-notes", "flashcards", "summary", "quiz")
# The mix of preloaded entries: a recurring pattern, so class counts are arithmetic.
PRELOAD_PATTERN = (PROVIDER_503,) * 5 + (PROVIDER_429,) * 3 + (PROVIDER_TIMEOUT, STORAGE_WRITE, STORAGE_WRITE, INVALID_INPUT)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def payload_for(number: int, tenant: str) -> dict[str, Any]:
    return {
        "lecture_id": f"lec-{number:07d}",
        "tenant": tenant,
        "preset": PRESETS[number % len(PRESETS)],
        "source_uri": f"s3://lectures/raw/lec-{number:07d}.mp4",
    }


@dataclass(frozen=True)
class StoredLetter:
    job_id: str
    error_class: str
    message: str
    attempts: int
    first_failed_at: datetime
    last_failed_at: datetime
    payload: dict[str, Any]


class DeadLetterQueue:
    def __init__(self, preload: int, preload_end: datetime, seed: int):
        self.preload = preload
        self._preload_end = preload_end
        self._seed = seed
        self._stored: list[StoredLetter] = []
        self._counts: Counter[str] = Counter()
        cycles, rest = divmod(preload, len(PRELOAD_PATTERN))
        for index, failure in enumerate(PRELOAD_PATTERN):
            self._counts[failure[0]] += cycles + (1 if index < rest else 0)

    def __len__(self) -> int:
        return self.preload + len(self._stored)

    def add(self, letter: StoredLetter) -> None:
        self._stored.append(letter)
        self._counts[letter.error_class] += 1

    def error_classes(self) -> dict[str, int]:
        return dict(sorted(((k, v) for k, v in self._counts.items() if v), key=lambda kv: (-kv[1], kv[0])))

    def entry(self, index: int) -> dict[str, Any]:
        """Entry by position, oldest first (0-based); ids are dlq-<index+1>."""
        if index < self.preload:
            letter = self._preloaded(index)
        else:
            letter = self._stored[index - self.preload]
        return {
            "id": f"dlq-{index + 1:07d}",
            "job_id": letter.job_id,
            "error_class": letter.error_class,
            "message": letter.message,
            "attempts": letter.attempts,
            "first_failed_at": iso(letter.first_failed_at),
            "last_failed_at": iso(letter.last_failed_at),
            "payload": letter.payload,
        }

    def page(self, offset: int, limit: int) -> list[dict[str, Any]]:
        """Newest first."""
        newest = len(self) - 1
        return [self.entry(newest - i) for i in range(offset, min(offset + limit, len(self)))]

    def _preloaded(self, index: int) -> StoredLetter:
        error_class, message, terminal = PRELOAD_PATTERN[index % len(PRELOAD_PATTERN)]
        number = (index * 2654435761 + self._seed) % 10_000_000  # spread ids deterministically
        last = self._preload_end - timedelta(seconds=(self.preload - index) * 3)
        attempts = 1 if terminal else 3
        return StoredLetter(
            job_id=f"job-p{number:07d}",
            error_class=error_class,
            message=message,
            attempts=attempts,
            first_failed_at=last - timedelta(seconds=30 * (attempts - 1)),
            last_failed_at=last,
            payload=payload_for(number, TENANTS[index % len(TENANTS)]),
        )
