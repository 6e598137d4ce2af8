"""One page of the dead-letter queue from the server, filtered on the server.

The dead-letter screen holds one page at a time: the console's memory does not grow
with the queue, whether it holds fifty entries or a million. A batch over "all that
match the filter" collects ids page by page, up to `policy.batch_max`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode, urlsplit

import httpx

from console.config import ApiConfig
from console.models import DeadLetter
from console.sources.http import get_json
from console.sources.json_mapping import Records
from console.sources.ops_api import read_dead_letters

MAX_PAGE = 500  # the demo API's largest page


@dataclass(frozen=True)
class DeadLetterFilter:
    error_class: str = ""
    text: str = ""

    def describe(self) -> str:
        parts = [f"class={self.error_class}" if self.error_class else "", f"text={self.text!r}" if self.text else ""]
        return " ".join(p for p in parts if p) or "none (the whole queue)"


@dataclass(frozen=True)
class DeadLetterPage:
    offset: int
    total: int
    """Entries matching the filter, on the whole queue."""
    items: tuple[DeadLetter, ...]
    error_classes: tuple[tuple[str, int], ...]
    server_now: datetime | None


def page_url(api: ApiConfig, offset: int, limit: int, where: DeadLetterFilter) -> str:
    path = urlsplit(api.dead_letters.path).path  # the configured query is replaced, not appended
    query = {"limit": limit, "offset": offset}
    if where.error_class:
        query["error_class"] = where.error_class
    if where.text:
        query["q"] = where.text
    return f"{api.base_url}{path}?{urlencode(query)}"


async def fetch_page(client: httpx.AsyncClient, api: ApiConfig, offset: int, limit: int, where: DeadLetterFilter) -> DeadLetterPage:
    records = Records(await get_json(client, page_url(api, offset, limit, where), api.timeout_s), api.dead_letters)
    items, total, classes = read_dead_letters(records)
    return DeadLetterPage(offset, total, items, tuple(classes or ()), records.server_now)


async def matching_ids(client: httpx.AsyncClient, api: ApiConfig, where: DeadLetterFilter, most: int) -> tuple[list[str], int]:
    """(ids of every entry matching `where`, the server's count), refusing more than `most`."""
    first = await fetch_page(client, api, 0, MAX_PAGE, where)
    if first.total > most:
        return [], first.total
    ids = [letter.id for letter in first.items]
    offset = len(first.items)
    while offset < first.total:
        page = await fetch_page(client, api, offset, MAX_PAGE, where)
        if not page.items:
            break
        ids.extend(letter.id for letter in page.items)
        offset += len(page.items)
    return list(dict.fromkeys(ids))[:most], first.total
