"""Asking a paged list for one page, and finding where the next one starts, in the style
the config names (`paging`): an offset, a page number or an opaque cursor.

A cursor cannot jump to page N, so a `PageAt` carries everything needed to fetch its page
again. The configured path keeps its own query parameters, except those paging owns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sized
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from console.config import Paging
from console.sources.json_mapping import as_text, dig


@dataclass(frozen=True)
class PageAt:
    """Where a page starts: its number (from 0), how many entries come before it, and for
    a cursor API the cursor that fetches it ("" for the first page)."""

    index: int = 0
    offset: int = 0
    cursor: str = ""


def page_url(
    base_url: str, path: str, paging: Paging, at: PageAt, limit: int, extra: Iterable[tuple[str, str]] = (), owned: Iterable[str] = ()
) -> str:
    """`path` asking for the page at `at` with `limit` entries (capped at `max_limit`), plus
    `extra` parameters (filters). The path's own parameters are kept, except paging's and
    those named in `owned` (every filter the API takes, set now or not)."""
    extra = list(extra)
    position = {"offset": paging.offset, "page": paging.page, "cursor": paging.cursor}[paging.style]
    owned = {paging.limit, position, *owned}
    parts = urlsplit(path)
    query = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True) if key not in owned]
    query.append((paging.limit, str(min(limit, paging.max_limit))))
    if paging.style == "offset":
        query.append((position, str(at.offset)))
    elif paging.style == "page":
        query.append((position, str(paging.first_page + at.index)))
    elif at.cursor:
        query.append((position, at.cursor))
    return f"{base_url}{parts.path}?{urlencode(query + extra)}"


def next_page(paging: Paging, body: Any, at: PageAt, limit: int, items: Sized, total: int | None) -> PageAt | None:
    """Where the page after `at` starts, or None when `at` was the last one."""
    after = PageAt(at.index + 1, at.offset + len(items))
    if paging.style == "cursor":
        cursor = dig(body, paging.next_cursor, None)
        cursor = "" if isinstance(cursor, (dict, list)) else as_text(cursor)
        return PageAt(after.index, after.offset, cursor) if cursor else None
    if not items:
        return None
    if total is not None:
        return after if after.offset < total else None
    return after if len(items) >= limit else None  # a short page is the last one
