"""The operations HTTP API: health, jobs, workers, leases and dead letters, read through
the config's mapping (console/config.py `FieldMap`, `HealthCheckConfig`).

Each `fetch_*` returns (records, server clock) or raises `SourceError`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

from console.config import ApiConfig, DeadLetterMap, FieldMap, HealthCheckConfig, Paging
from console.models import DeadLetter, DeadLetterSummary, Job, Lease, ServiceHealth, Worker
from console.sources.http import SourceError, fetch, get_json, parse_json
from console.sources.json_mapping import Records, as_int, as_text, dig, parse_time
from console.sources.paging import PageAt, next_page, page_url

Fetched = tuple[Any, datetime | None]


async def fetch_health(client: httpx.AsyncClient, api: ApiConfig, check: HealthCheckConfig) -> Fetched:
    """One service's health. A 5xx is an answer (the service is down), not a failed fetch.
    Services have no clock of their own here: ages come from the poll."""
    status, body = await fetch(client, api.base_url + check.path, api.timeout_s, accept_errors=True)
    return health_from(check, status, body), None


def health_from(check: HealthCheckConfig, status: int, body: bytes) -> ServiceHealth:
    """A garbled 200 raises SourceError when a status word is expected: it must not pass
    for an answer."""
    try:
        data = parse_json(body) if body.strip() else {}
    except SourceError:
        if status < 400 and check.status:
            raise
        data = {}  # an error page, or a plain "OK" where the HTTP status alone decides
    raw = dig(data, check.status, None) if check.status else None
    word = "" if isinstance(raw, (dict, list)) else as_text(raw)  # a mapping mistake must not show a JSON blob
    # No status word (none configured, or none in this answer): the HTTP status decides.
    healthy = status < 400 and (not word or word.lower() in {ok.lower() for ok in check.ok})
    checks = dig(data, check.checks, None) if check.checks else None
    details = ((label, dig(data, path, None)) for label, path in check.details.items())
    return ServiceHealth(
        name=check.name,
        ok=healthy,
        status_code=status,
        status=word,
        checks=tuple((as_text(k), _state(v, check.status)) for k, v in checks.items()) if isinstance(checks, dict) else (),
        details=tuple((label, as_text(value)) for label, value in details if value is not None and not isinstance(value, (dict, list))),
    )


def _state(value: Any, status_path: str) -> str:
    """A component's state: its value, or (when it is an object) the value at the
    service's own status path inside it, e.g. {"db": {"status": "up", "latency_ms": 3}}."""
    if isinstance(value, dict):
        return as_text(dig(value, status_path or "status", None)) or "?"
    return as_text(value)


Get = Callable[[str], Any]


async def _records(client: httpx.AsyncClient, api: ApiConfig, mapping: FieldMap | None, key: str) -> Records:
    if mapping is None:  # callers ask only for lists the config has; this says so if one does not
        raise SourceError(f"not configured: [api.{key}] is not in the config")
    if mapping.paging is None or isinstance(mapping, DeadLetterMap):  # the DLQ panel shows its first page
        return Records(await get_json(client, api.base_url + mapping.path, api.timeout_s), mapping)
    return await _every_page(client, api, mapping, mapping.paging)


async def _every_page(client: httpx.AsyncClient, api: ApiConfig, mapping: FieldMap, paging: Paging) -> Records:
    """Every page of a paged list (up to `paging.max_items`), as one: the fleet is counted
    whole, not as its first page. The clock is the first page's."""
    limit = paging.max_limit
    at: PageAt | None = PageAt()
    records: Records | None = None
    cursors: set[str] = set()
    while at is not None:
        page = Records(await get_json(client, page_url(api.base_url, mapping.path, paging, at, limit), api.timeout_s), mapping)
        if records is None:
            records = page
        else:
            records.items += page.items
        if len(records.items) >= paging.max_items:
            del records.items[paging.max_items :]
            break
        at = next_page(paging, page.body, at, limit, page.items, None)
        if at is not None and at.cursor:
            if at.cursor in cursors:
                raise SourceError(f"the API returned cursor {at.cursor[:40]!r} twice while listing {mapping.path}")
            cursors.add(at.cursor)
    assert records is not None
    return records


def _job(get: Get) -> Job:
    return Job(
        id=as_text(get("id")),
        state=as_text(get("state")),
        stage=as_text(get("stage")),
        attempts=as_int(get("attempts")),
        worker=as_text(get("worker")),
        updated_at=parse_time(get("updated_at")),
        error=as_text(get("error")),
    )


def _worker(get: Get) -> Worker:
    return Worker(
        id=as_text(get("id")),
        state=as_text(get("state")),
        last_heartbeat=parse_time(get("last_heartbeat")),
        current_job=as_text(get("current_job")),
        leases_held=as_int(get("leases_held")),
    )


def _lease(get: Get) -> Lease:
    return Lease(
        id=as_text(get("id")),
        job=as_text(get("job")),
        worker=as_text(get("worker")),
        acquired_at=parse_time(get("acquired_at")),
        expires_at=parse_time(get("expires_at")),
    )


def dead_letter_from(get: Get) -> DeadLetter:
    return DeadLetter(
        id=as_text(get("id")),
        job=as_text(get("job")),
        error_class=as_text(get("error_class")),
        message=as_text(get("message")),
        attempts=as_int(get("attempts")),
        first_failed_at=parse_time(get("first_failed_at")),
        last_failed_at=parse_time(get("last_failed_at")),
        payload=get("payload"),
    )


async def fetch_jobs(client: httpx.AsyncClient, api: ApiConfig) -> Fetched:
    records = await _records(client, api, api.jobs, "jobs")
    return tuple(map(_job, records.rows())), records.server_now


async def fetch_workers(client: httpx.AsyncClient, api: ApiConfig) -> Fetched:
    records = await _records(client, api, api.workers, "workers")
    return tuple(map(_worker, records.rows())), records.server_now


async def fetch_leases(client: httpx.AsyncClient, api: ApiConfig) -> Fetched:
    records = await _records(client, api, api.leases, "leases")
    return tuple(map(_lease, records.rows())), records.server_now


def class_counts(raw: Any) -> list[tuple[str, int]] | None:
    """{error class: count} as (class, count) pairs, largest first; None when not a mapping."""
    if not isinstance(raw, dict):
        return None
    counts = [(as_text(k), n) for k, v in raw.items() if (n := as_int(v)) is not None]
    return sorted(counts, key=lambda kv: (-kv[1], kv[0]))


def read_dead_letters(records: Records) -> tuple[tuple[DeadLetter, ...], int | None, list[tuple[str, int]] | None]:
    """(entries, size of the whole queue, error classes over it) from one dead-letter
    answer; the size and the classes are None when the API does not give them."""
    mapping = records.mapping
    assert isinstance(mapping, DeadLetterMap)
    items = tuple(map(dead_letter_from, records.rows()))
    total = as_int(dig(records.body, mapping.total, None)) if mapping.total else None
    classes = class_counts(dig(records.body, mapping.error_classes, None)) if mapping.error_classes else None
    return items, total, classes


async def fetch_dead_letters(client: httpx.AsyncClient, api: ApiConfig) -> Fetched:
    records = await _records(client, api, api.dead_letters, "dead_letters")
    newest, total, classes = read_dead_letters(records)
    whole_queue = classes is not None
    if classes is None:  # the API does not count them: count the page we have
        classes = class_counts(Counter(letter.error_class for letter in newest))
    summary = DeadLetterSummary(
        total=total,
        error_classes=tuple(classes),
        classes_cover_whole_queue=whole_queue,
        newest=newest,
    )
    return summary, records.server_now
