"""The operations HTTP API: health, jobs, workers, leases and dead letters.

Each `fetch_*` returns (records, server clock) or raises `SourceError`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from console.config import ApiConfig
from console.models import DeadLetter, DeadLetterSummary, Health, Job, Lease, Worker
from console.sources.http import SourceError, fetch, get_json, parse_json
from console.sources.json_mapping import Records, as_int, as_text, dig, parse_time

Fetched = tuple[Any, datetime | None]


async def fetch_health(client: httpx.AsyncClient, api: ApiConfig) -> Fetched:
    """A 5xx from /healthz is an answer (unhealthy), not a failed fetch."""
    status, body = await fetch(client, api.base_url + api.health_path, api.timeout_s)
    try:
        data = parse_json(body) if body.strip() else {}
    except SourceError:
        data = {"status": body[:200].decode("utf-8", "replace")}
    if not isinstance(data, dict):
        data = {"status": data}
    checks = data.get("checks") if isinstance(data.get("checks"), dict) else {}
    status_text = as_text(data.get("status", "")) or ("ok" if status < 400 else "failing")
    healthy = status < 400 and status_text.lower() in ("ok", "healthy", "pass", "up")
    health = Health(
        ok=healthy,
        status_code=status,
        status=status_text,
        checks=tuple((as_text(k), as_text(v)) for k, v in checks.items()),
    )
    return health, parse_time(data.get("now"))


async def fetch_jobs(client: httpx.AsyncClient, api: ApiConfig) -> Fetched:
    records = Records(await get_json(client, api.base_url + api.jobs.path, api.timeout_s), api.jobs)
    jobs = tuple(
        Job(
            id=as_text(records.field(item, "id")),
            state=as_text(records.field(item, "state")),
            stage=as_text(records.field(item, "stage")),
            attempts=as_int(records.field(item, "attempts")),
            worker=as_text(records.field(item, "worker")),
            updated_at=parse_time(records.field(item, "updated_at")),
            error=as_text(records.field(item, "error")),
        )
        for item in records.items
    )
    return jobs, records.server_now


async def fetch_workers(client: httpx.AsyncClient, api: ApiConfig) -> Fetched:
    records = Records(await get_json(client, api.base_url + api.workers.path, api.timeout_s), api.workers)
    workers = tuple(
        Worker(
            id=as_text(records.field(item, "id")),
            state=as_text(records.field(item, "state")),
            last_heartbeat=parse_time(records.field(item, "last_heartbeat")),
            current_job=as_text(records.field(item, "current_job")),
            leases_held=as_int(records.field(item, "leases_held")),
        )
        for item in records.items
    )
    return workers, records.server_now


async def fetch_leases(client: httpx.AsyncClient, api: ApiConfig) -> Fetched:
    records = Records(await get_json(client, api.base_url + api.leases.path, api.timeout_s), api.leases)
    leases = tuple(
        Lease(
            id=as_text(records.field(item, "id")),
            job=as_text(records.field(item, "job")),
            worker=as_text(records.field(item, "worker")),
            acquired_at=parse_time(records.field(item, "acquired_at")),
            expires_at=parse_time(records.field(item, "expires_at")),
        )
        for item in records.items
    )
    return leases, records.server_now


def _class_counts(raw: Any) -> list[tuple[str, int]] | None:
    if not isinstance(raw, dict):
        return None
    counts = [(as_text(k), n) for k, v in raw.items() if (n := as_int(v)) is not None]
    return sorted(counts, key=lambda kv: (-kv[1], kv[0]))


async def fetch_dead_letters(client: httpx.AsyncClient, api: ApiConfig) -> Fetched:
    mapping = api.dead_letters
    body = await get_json(client, api.base_url + mapping.path, api.timeout_s)
    records = Records(body, mapping)
    newest = tuple(
        DeadLetter(
            id=as_text(records.field(item, "id")),
            job=as_text(records.field(item, "job")),
            error_class=as_text(records.field(item, "error_class")),
            message=as_text(records.field(item, "message")),
            attempts=as_int(records.field(item, "attempts")),
            first_failed_at=parse_time(records.field(item, "first_failed_at")),
            last_failed_at=parse_time(records.field(item, "last_failed_at")),
            payload=records.field(item, "payload"),
        )
        for item in records.items
    )
    total = as_int(dig(body, mapping.total, None)) if mapping.total else None
    classes = _class_counts(dig(body, mapping.error_classes, None)) if mapping.error_classes else None
    whole_queue = classes is not None
    if classes is None:
        page_counts: dict[str, int] = {}
        for letter in newest:
            page_counts[letter.error_class] = page_counts.get(letter.error_class, 0) + 1
        classes = sorted(page_counts.items(), key=lambda kv: (-kv[1], kv[0]))
    summary = DeadLetterSummary(
        total=total if total is not None else len(newest),
        error_classes=tuple(classes),
        classes_cover_whole_queue=whole_queue,
        newest=newest,
    )
    return summary, records.server_now
