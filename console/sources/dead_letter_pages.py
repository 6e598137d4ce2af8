"""One page of the dead-letter queue from the server, filtered on the server.

The dead-letter screen holds one page at a time: the console's memory does not grow
with the queue, whether it holds fifty entries or a million. A batch over "all that
match the filter" collects ids page by page, up to `policy.batch_max`.

How pages are asked for is the config's (`[api.dead_letters] paging`): an offset, a page
number or an opaque cursor from the previous answer. A cursor cannot jump to page N, so
a `PageAt` carries everything needed to fetch its page again, and the screen keeps the
ones it has seen to go back. Filters are query parameters the API takes
(`[api.dead_letters] filters`); one it does not take is never applied here on a page and
passed off as the queue.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import httpx

from console.config import ApiConfig, DeadLetterMap
from console.models import DeadLetter
from console.sources.http import SourceError, get_json
from console.sources.json_mapping import Records
from console.sources.ops_api import class_counts, read_dead_letters
from console.sources.paging import PageAt, next_page
from console.sources.paging import page_url as paged_url

FILTER_NAMES = {"error_class": "error class", "text": "text"}


@dataclass(frozen=True)
class DeadLetterFilter:
    error_class: str = ""
    text: str = ""

    def describe(self) -> str:
        parts = [f"class={self.error_class}" if self.error_class else "", f"text={self.text!r}" if self.text else ""]
        return " ".join(p for p in parts if p) or "none (the whole queue)"


@dataclass(frozen=True)
class DeadLetterPage:
    at: PageAt
    limit: int
    """The page size asked for (the screen's, capped at `paging.max_limit`)."""
    total: int | None
    """Entries matching the filter, on the whole queue (None when the API does not say)."""
    items: tuple[DeadLetter, ...]
    error_classes: tuple[tuple[str, int], ...]
    """Over the whole queue when the API counts them, else over this page."""
    server_now: datetime | None
    next_at: PageAt | None
    """Where the next page starts; None on the last page."""

    @property
    def offset(self) -> int:
        return self.at.offset


def dead_letter_map(api: ApiConfig) -> DeadLetterMap:
    if api.dead_letters is None:
        raise SourceError("not configured: [api.dead_letters] is not in the config")
    return api.dead_letters


def filters_taken(api: ApiConfig) -> set[str]:
    """The filters this API applies itself ("error_class", "text")."""
    return set(api.dead_letters.filters) if api.dead_letters is not None else set()


def page_url(api: ApiConfig, at: PageAt, limit: int, where: DeadLetterFilter) -> str:
    """The configured path with its own query parameters kept, except those paging and
    filters own, which are set for this page."""
    mapping = dead_letter_map(api)
    filters = mapping.filters
    extra = []
    for name, value in (("error_class", where.error_class), ("text", where.text)):
        if value:
            if name not in filters:
                raise SourceError(f"this API takes no {FILTER_NAMES[name]} filter (no filters.{name} in [api.dead_letters])")
            extra.append((filters[name], value))
    return paged_url(api.base_url, mapping.path, mapping.paging, at, limit, extra, owned=filters.values())


async def fetch_page(client: httpx.AsyncClient, api: ApiConfig, at: PageAt, limit: int, where: DeadLetterFilter) -> DeadLetterPage:
    mapping = dead_letter_map(api)
    limit = min(limit, mapping.paging.max_limit)
    records = Records(await get_json(client, page_url(api, at, limit, where), api.timeout_s), mapping)
    items, total, classes = read_dead_letters(records)
    if classes is None:  # the API does not count them: the page's own, to pick a filter from
        classes = class_counts(Counter(letter.error_class for letter in items))
    return DeadLetterPage(at, limit, total, items, tuple(classes), records.server_now, next_page(mapping.paging, records.body, at, limit, items, total))


async def matching_ids(client: httpx.AsyncClient, api: ApiConfig, where: DeadLetterFilter, most: int) -> tuple[list[str], int]:
    """(ids of every entry matching `where`, how many match), refusing more than `most`:
    then no ids, with the server's count (or, when it gives none, how many were seen)."""
    limit = dead_letter_map(api).paging.max_limit
    page = await fetch_page(client, api, PageAt(), limit, where)
    total = page.total
    if total is not None and total > most:
        return [], total
    ids: dict[str, None] = {}
    cursors_seen: set[str] = set()
    while True:
        ids.update(dict.fromkeys(letter.id for letter in page.items))
        if len(ids) > most:
            if total is None:
                return [], len(ids)
            break  # the queue grew while it was walked: the count said is what is sent
        at = page.next_at
        if at is None:
            break
        if at.cursor and at.cursor in cursors_seen:
            raise SourceError(f"the API returned cursor {at.cursor[:40]!r} twice; stopped collecting")
        cursors_seen.add(at.cursor)
        page = await fetch_page(client, api, at, limit, where)
    return list(ids)[:most], total if total is not None else len(ids)
