"""The demo's dead-letter queue: compact, pageable newest-first, cheap at a million entries.

Preloaded entries are never stored: entry i is computed from i when a page asks for it,
so a 1,000,000-entry queue costs a few counters, not a million dicts.
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from console.demo.scenarios import INVALID_INPUT, PROVIDER_429, PROVIDER_503, PROVIDER_TIMEOUT, STORAGE_WRITE

TENANTS = ("t-acme", "t-globex", "t-initech", "t-umbrella")
PRESETS = ("lecture-notes", "flashcards", "summary", "quiz")
# Preloaded entries' job numbers: spread deterministically over 10**7, invertible (coprime).
_SPREAD, _JOB_NUMBERS = 2654435761, 10_000_000
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
        # Replayed entries leave the queue; positions stay, so preloaded ids never shift.
        self._removed: list[int] = []  # sorted
        self._removed_set: set[int] = set()
        self._version = 0
        self._filtered: tuple[tuple[object, ...], list[int]] | None = None
        cycles, rest = divmod(preload, len(PRELOAD_PATTERN))
        for index, failure in enumerate(PRELOAD_PATTERN):
            self._counts[failure[0]] += cycles + (1 if index < rest else 0)

    def __len__(self) -> int:
        return self.preload + len(self._stored) - len(self._removed)

    def add(self, letter: StoredLetter) -> None:
        self._stored.append(letter)
        self._counts[letter.error_class] += 1
        self._version += 1

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
        indices = []
        index = self._position(offset)
        while index >= 0 and len(indices) < limit:
            if index not in self._removed_set:
                indices.append(index)
            index -= 1
        return [self.entry(i) for i in indices]

    # -- replay and server-side filtering (mutation endpoints) ------------------------------

    def index_of(self, letter_id: str) -> int | None:
        """Position of a live entry from its id (dlq-0000042 → 41), None if absent or replayed."""
        digits = letter_id.removeprefix("dlq-")
        if not digits.isdigit() or letter_id == digits:
            return None
        index = int(digits) - 1
        if not 0 <= index < self.preload + len(self._stored) or index in self._removed_set:
            return None
        return index

    def index_of_job(self, job_id: str) -> int | None:
        """Position of the live entry for a job (an API that names dead letters by their
        job), None if the job has none. A job is dead-lettered at most once at a time."""
        for offset in range(len(self._stored) - 1, -1, -1):
            if self._stored[offset].job_id == job_id and self.preload + offset not in self._removed_set:
                return self.preload + offset
        digits = job_id.removeprefix("job-p")
        if digits == job_id or not digits.isdigit() or len(digits) != 7:
            return None
        # Preloaded job numbers are (index * _SPREAD + seed) mod 10**7: invert that.
        index = (int(digits) - self._seed) * pow(_SPREAD, -1, _JOB_NUMBERS) % _JOB_NUMBERS
        return index if index < self.preload and index not in self._removed_set else None

    def remove(self, index: int) -> dict[str, Any]:
        entry = self.entry(index)
        bisect.insort(self._removed, index)
        self._removed_set.add(index)
        self._counts[entry["error_class"]] -= 1
        self._version += 1
        return entry

    def _position(self, offset: int) -> int:
        """Index of the live entry `offset` places from the newest (-1 past the end)."""
        last = self.preload + len(self._stored) - 1
        if not self._removed:
            return last - offset
        # live(i) = live entries in [i, last]; it falls as i rises. Find the largest i with
        # live(i) >= offset + 1: that entry is live and exactly `offset` from the newest.
        low, high, found = 0, last, -1
        while low <= high:
            mid = (low + high) // 2
            live = (last - mid + 1) - (len(self._removed) - bisect.bisect_left(self._removed, mid))
            if live >= offset + 1:
                found, low = mid, mid + 1
            else:
                high = mid - 1
        return found

    def _candidates(self, error_class: str) -> list[int]:
        """Live indices of `error_class` (all when ""), newest first, without building entries."""
        stored = [
            self.preload + offset
            for offset in range(len(self._stored) - 1, -1, -1)
            if not error_class or self._stored[offset].error_class == error_class
        ]
        if error_class:  # preloaded classes repeat with the pattern: arithmetic, not a scan
            residues = [r for r, failure in enumerate(PRELOAD_PATTERN) if failure[0] == error_class]
            preloaded = sorted((i for r in residues for i in range(r, self.preload, len(PRELOAD_PATTERN))), reverse=True)
        else:
            preloaded = range(self.preload - 1, -1, -1)
        return [i for i in (*stored, *preloaded) if i not in self._removed_set]

    def _contains(self, index: int, needle: str) -> bool:
        if index < self.preload:
            error_class, message, _ = PRELOAD_PATTERN[index % len(PRELOAD_PATTERN)]
            job = f"job-p{(index * _SPREAD + self._seed) % _JOB_NUMBERS:07d}"
        else:
            letter = self._stored[index - self.preload]
            error_class, message, job = letter.error_class, letter.message, letter.job_id
        return needle in f"dlq-{index + 1:07d} {error_class} {message} {job}".lower()

    def filtered_page(self, offset: int, limit: int, error_class: str, text: str) -> tuple[int, list[dict[str, Any]]]:
        """(matching total, page newest first) for entries of `error_class` containing `text`."""
        key = (error_class, text.lower(), self._version)
        if self._filtered is None or self._filtered[0] != key:
            needle = text.lower()
            matches = self._candidates(error_class)
            if needle:
                matches = [i for i in matches if self._contains(i, needle)]
            self._filtered = (key, matches)  # paging through one filter computes it once
        matches = self._filtered[1]
        return len(matches), [self.entry(i) for i in matches[offset : offset + limit]]

    def _preloaded(self, index: int) -> StoredLetter:
        error_class, message, terminal = PRELOAD_PATTERN[index % len(PRELOAD_PATTERN)]
        number = (index * _SPREAD + self._seed) % _JOB_NUMBERS  # spread ids deterministically
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
