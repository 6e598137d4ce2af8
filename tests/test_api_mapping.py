"""The console reads an API that looks nothing like the demo's, through the config alone.

A small real HTTP server in this file speaks another shape: renamed fields, a list at the
top level with no server clock, three health services (one answering 503, one that can
drop the connection), no leases, and failed entries paged by page number, by cursor and
by offset under other parameter names, with filters under other names (or none). The core
functions and the UI (run_test, Pilot.press) are driven against it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from console.config import FieldMap, parse_config
from console.evidence import make_bundle
from console.online_check import check_online
from console.poller import DEAD_LETTERS, LEASES, WORKERS, Poller, health_source
from console.sources import ops_api
from console.sources.dead_letter_pages import DeadLetterFilter, PageAt, fetch_page, matching_ids
from console.sources.http import SourceError
from screens.app import OpsConsoleApp
from screens.dead_letters import DeadLetterScreen
from screens.modals.batch import BatchScreen
from screens.modals.confirm import ConfirmScreen
from tests.conftest import screen_text, wait_for

NOW_MS = 1_795_000_000_000
CLASSES = ("Timeout", "OOM", "BadInput")
FAILED = [
    {"jobId": f"f-{n:04d}", "reason": {"kind": CLASSES[n % 3], "text": f"tenant-{n % 4} failed"}, "tries": 3, "failedAt": NOW_MS - n * 1000}
    for n in range(1, 121)
]
SERVER_PAGE_MAX = 25  # the API's own largest page: the config's max_limit must respect it


class OtherApi(BaseHTTPRequestHandler):
    """Serves the other shape; records every request line and body."""

    seen: list[str] = []
    posted: list[tuple[str, Any]] = []
    drop_optimizer = False

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any, kind: str = "application/json") -> None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        OtherApi.posted.append((self.path, json.loads(self.rfile.read(length) or b"null")))
        self._send(200, {"retried": len(OtherApi.posted[-1][1].get("jobIds", []))})

    def do_GET(self) -> None:
        OtherApi.seen.append(self.path)
        parts = urlsplit(self.path)
        q = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        route = parts.path
        if route == "/status/backend":
            self._send(200, {"state": "healthy", "components": {"db": {"state": "up"}, "redis": "down"}, "build": {"version": "2026.11.2"}})
        elif route == "/status/pdf":
            self._send(503, {"error": "renderer crashed"})
        elif route == "/status/optimizer":
            if OtherApi.drop_optimizer:
                self.close_connection = True
                self.connection.close()
                return
            self._send(200, "OK", "text/plain")
        elif route == "/api/jobs":
            self._send(200, [{"jobId": "j-1", "status": "active", "ts": NOW_MS}, {"jobId": "j-2", "status": "waiting", "ts": NOW_MS - 5000}])
        elif route == "/api/consumers":
            self._send(200, {"data": {"consumers": [{"name": "consumer-a", "phase": "Running", "hb": NOW_MS - 2000}]}, "meta": {"t": NOW_MS}})
        elif route == "/metrics":
            self._send(200, "# TYPE queue_waiting gauge\nqueue_waiting 7\n", "text/plain")
        elif route.startswith("/api/failed-"):
            self._failed(route.removeprefix("/api/failed-"), q)
        elif route.startswith("/api/fleet-"):
            self._fleet(route.removeprefix("/api/fleet-"), q)
        else:
            self._send(404, {"error": "no such route"})

    def _failed(self, style: str, q: dict[str, str]) -> None:
        entries = FAILED
        if q.get("error"):
            entries = [e for e in entries if e["reason"]["kind"] == q["error"]]
        if q.get("search"):
            entries = [e for e in entries if q["search"] in e["reason"]["text"]]
        if style == "page":  # ?page=1&per_page=N, pages from 1; total and counts by class
            size = min(int(q.get("per_page", 10)), SERVER_PAGE_MAX)
            start = (int(q.get("page", 1)) - 1) * size
            by_error: dict[str, int] = {}
            for e in entries:
                by_error[e["reason"]["kind"]] = by_error.get(e["reason"]["kind"], 0) + 1
            self._send(200, {"entries": entries[start : start + size], "total": len(entries), "by_error": by_error})
        elif style == "cursor":  # ?after=ID&count=N; no total; the next cursor under paging.next
            size = min(int(q.get("count", 10)), SERVER_PAGE_MAX)
            start = next((i + 1 for i, e in enumerate(entries) if e["jobId"] == q.get("after")), 0)
            chunk = entries[start : start + size]
            more = start + size < len(entries)
            self._send(200, {"results": chunk, "paging": {"next": chunk[-1]["jobId"] if more and chunk else None}})
        else:  # offset: ?start=K&count=N; no filters at all; total under meta.total
            size = min(int(q.get("count", 10)), SERVER_PAGE_MAX)
            start = int(q.get("start", 0))
            self._send(200, {"rows": FAILED[start : start + size], "meta": {"total": len(FAILED)}})


    def _fleet(self, style: str, q: dict[str, str]) -> None:
        """A fleet larger than the API's largest page, in each paging style, no totals."""
        size = min(int(q.get("count", q.get("per_page", 10))), SERVER_PAGE_MAX)
        if style == "page":
            start = (int(q.get("page", 1)) - 1) * size
        elif style == "cursor":
            start = next((i + 1 for i, w in enumerate(FLEET) if w["name"] == q.get("after")), 0)
        else:
            start = int(q.get("start", 0))
        chunk = FLEET[start : start + size]
        more = start + size < len(FLEET)
        self._send(200, {"rows": chunk, "next": chunk[-1]["name"] if more and chunk else None})


FLEET = [{"name": f"pod-{n:03d}", "phase": "Running", "hb": NOW_MS - n} for n in range(60)]
FLEET_PAGING = {
    "offset": {"style": "offset", "offset": "start", "limit": "count"},
    "page": {"style": "page", "page": "page", "limit": "per_page"},
    "cursor": {"style": "cursor", "cursor": "after", "limit": "count", "next_cursor": "next"},
}


@pytest.fixture
def other_api() -> Iterator[str]:
    OtherApi.seen, OtherApi.posted, OtherApi.drop_optimizer = [], [], False
    server = ThreadingHTTPServer(("127.0.0.1", 0), OtherApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


FAILED_FIELDS = {"id": "jobId", "job": "jobId", "error_class": "reason.kind", "message": "reason.text", "attempts": "tries", "last_failed_at": "failedAt"}
DEAD_LETTER_MAPS: dict[str, dict[str, Any]] = {
    "page": {
        "path": "/api/failed-page?queue=pdf&per_page=5&page=3", "items": "entries", "now": "", "total": "total", "error_classes": "by_error",
        "paging": {"style": "page", "page": "page", "limit": "per_page", "first_page": 1, "max_limit": SERVER_PAGE_MAX},
        "filters": {"error_class": "error", "text": "search"},
    },
    "cursor": {
        "path": "/api/failed-cursor?queue=pdf", "items": "results", "now": "", "total": "",
        "paging": {"style": "cursor", "cursor": "after", "next_cursor": "paging.next", "limit": "count", "max_limit": SERVER_PAGE_MAX},
        "filters": {"error_class": "error"},
    },
    "offset": {
        "path": "/api/failed-offset", "items": "rows", "now": "", "total": "meta.total",
        "paging": {"style": "offset", "offset": "start", "limit": "count", "max_limit": SERVER_PAGE_MAX},
    },
}


def other_config(url: str, tmp_path, style: str | None = "cursor", workers: bool = True, jobs: bool = True) -> Any:
    api: dict[str, Any] = {
        "base_url": url,
        "timeout_s": 2.0,
        "health": [
            {"name": "backend", "path": "/status/backend", "status": "state", "checks": "components", "details": {"version": "build.version"}},
            {"name": "pdf", "path": "/status/pdf", "status": ""},
            {"name": "optimizer", "path": "/status/optimizer", "status": "", "checks": ""},
        ],
    }
    if jobs:
        api["jobs"] = {"path": "/api/jobs?limit=50", "items": "", "now": "", "fields": {"id": "jobId", "state": "status", "updated_at": "ts"}}
    if workers:
        api["workers"] = {"path": "/api/consumers", "items": "data.consumers", "now": "meta.t",
                          "fields": {"id": "name", "state": "phase", "last_heartbeat": "hb"}}
    data: dict[str, Any] = {
        "environment": "other",
        "refresh_interval_s": 0.5,
        "api": api,
        "signals": [{"name": "waiting", "title": "Waiting", "metric": "queue_waiting", "unit": "jobs"}],
        "incident": {"state_path": str(tmp_path / "state.db")},
        "audit": {"path": str(tmp_path / "audit.jsonl")},
    }
    if style is not None:
        api["dead_letters"] = {**DEAD_LETTER_MAPS[style], "fields": FAILED_FIELDS}
        data["actions"] = [{"name": "retry-failed", "title": "Retry failed jobs", "kind": "http", "path": "/api/failed/retry",
                            "body": {"jobIds": "{ids}"}, "batch": True, "panel": "dead_letters", "row": "dead_letter",
                            "confirm": "retry {count}"}]
    return parse_config(data)


def expected(error_class: str = "", text: str = "") -> list[str]:
    return [e["jobId"] for e in FAILED if (not error_class or e["reason"]["kind"] == error_class) and text in e["reason"]["text"]]


# -- core -------------------------------------------------------------------------------------


async def test_lists_in_other_shapes_and_every_health_service_on_its_own(other_api, tmp_path):
    config = other_config(other_api, tmp_path, style=None)
    async with httpx.AsyncClient() as client:
        jobs, jobs_now = await ops_api.fetch_jobs(client, config.api)
        workers, workers_now = await ops_api.fetch_workers(client, config.api)
    # A list at the top level, no clock: ages against ours.
    assert [(j.id, j.state) for j in jobs] == [("j-1", "active"), ("j-2", "waiting")]
    assert jobs[1].updated_at == datetime.fromtimestamp((NOW_MS - 5000) / 1000, tz=timezone.utc)
    assert abs(jobs_now.timestamp() - time.time()) < 60
    # Nested list, renamed fields, the server's clock in epoch milliseconds.
    assert [(w.id, w.state) for w in workers] == [("consumer-a", "Running")]
    assert (workers_now - workers[0].last_heartbeat).total_seconds() == 2

    poller = Poller(config)
    try:
        snapshot = await poller.poll()
        OtherApi.drop_optimizer = True
        later = await poller.poll()
    finally:
        await poller.aclose()
    backend = snapshot.source(health_source("backend")).data
    assert backend.ok and backend.status == "healthy"
    assert backend.checks == (("db", "up"), ("redis", "down")) and backend.details == (("version", "2026.11.2"),)
    pdf = snapshot.source(health_source("pdf"))
    assert not pdf.stale and not pdf.data.ok and pdf.data.status_code == 503  # an answer: down, not stale
    assert snapshot.source(health_source("optimizer")).data.ok  # a plain "OK": HTTP 200 decides
    # Unreachable: that service alone is stale, with its reason; the others stay current.
    optimizer = later.source(health_source("optimizer"))
    assert optimizer.stale and "connection" in optimizer.error and optimizer.data.ok
    assert not later.source(health_source("backend")).stale and not later.source(WORKERS).stale
    # No [api.leases] or [api.dead_letters]: not asked for, not in the snapshot, never stale.
    assert LEASES not in later.sources and DEAD_LETTERS not in later.sources
    assert [s.name for s in later.sources.values() if s.stale] == [health_source("optimizer")]
    assert not any("lease" in path or "failed" in path for path in OtherApi.seen)


@pytest.mark.parametrize("style", sorted(FLEET_PAGING))
async def test_a_paged_fleet_is_read_whole_not_as_its_first_page(other_api, tmp_path, style):
    """60 workers behind an API whose pages hold 25: the panel must count 60, not 25."""
    config = other_config(other_api, tmp_path)
    paging = {**FLEET_PAGING[style], "max_limit": SERVER_PAGE_MAX}
    workers = {"path": f"/api/fleet-{style}?team=ops", "items": "rows", "now": "", "fields": {"id": "name", "state": "phase", "last_heartbeat": "hb"}}
    api = config.api.model_copy(update={"workers": FieldMap.model_validate({**workers, "paging": paging})})
    async with httpx.AsyncClient() as client:
        fleet, _ = await ops_api.fetch_workers(client, api)
        assert [w.id for w in fleet] == [w["name"] for w in FLEET]
        asked = [path for path in OtherApi.seen if path.startswith(f"/api/fleet-{style}")]
        assert len(asked) == 3 and all("team=ops" in path for path in asked)
        capped = {**workers, "paging": {**paging, "max_items": 30}}
        fleet, _ = await ops_api.fetch_workers(client, api.model_copy(update={"workers": FieldMap.model_validate(capped)}))
        assert len(fleet) == 30


@pytest.mark.parametrize("style", ["page", "cursor", "offset"])
async def test_paging_walks_the_whole_queue_forward_and_back(other_api, tmp_path, style):
    api = other_config(other_api, tmp_path, style=style).api
    async with httpx.AsyncClient() as client:
        trail, ids = [PageAt()], []
        while True:
            page = await fetch_page(client, api, trail[-1], 50, DeadLetterFilter())
            assert len(page.items) <= SERVER_PAGE_MAX
            ids += [letter.id for letter in page.items]
            if page.next_at is None:
                break
            trail.append(page.next_at)
        assert ids == expected()  # every entry once, in order: nothing skipped though the API cut the page
        assert len(trail) == 5 and page.total in (120, None)
        back = await fetch_page(client, api, trail[1], 50, DeadLetterFilter())  # a cursor API goes back by its kept cursor
        assert [letter.id for letter in back.items] == expected()[25:50]
        assert back.offset == 25

        collected, count = await matching_ids(client, api, DeadLetterFilter(), most=1000)
        assert collected == expected() and count == 120
        refused, count = await matching_ids(client, api, DeadLetterFilter(), most=40)
        assert refused == [] and count > 40
    if style == "page":
        # The configured path's own parameters stay; those paging owns are replaced, not repeated.
        last = parse_qs(urlsplit(OtherApi.seen[-1]).query)
        assert last["queue"] == ["pdf"] and last["per_page"] == ["25"] and last["page"] == ["1"]


@pytest.mark.parametrize("style", ["page", "cursor"])
async def test_filters_go_to_the_api_under_its_own_names(other_api, tmp_path, style):
    api = other_config(other_api, tmp_path, style=style).api
    async with httpx.AsyncClient() as client:
        ids, count = await matching_ids(client, api, DeadLetterFilter(error_class="OOM"), most=1000)
        assert ids == expected("OOM") and count == 40
        assert "error=OOM" in OtherApi.seen[-1]
        if style == "page":
            page = await fetch_page(client, api, PageAt(), 10, DeadLetterFilter("Timeout", "tenant-1"))
            assert [letter.id for letter in page.items] == expected("Timeout", "tenant-1")[:10]
            assert page.total == len(expected("Timeout", "tenant-1"))
        else:
            with pytest.raises(SourceError, match="takes no text filter"):
                await fetch_page(client, api, PageAt(), 10, DeadLetterFilter(text="tenant-1"))


def test_online_check_asks_every_service_and_checks_the_mapped_fields(other_api, tmp_path):
    config = other_config(other_api, tmp_path, style="page")
    answered, problems = check_online(config)
    assert "health backend at /status/backend: ok" in answered
    assert any("pdf" in p and "HTTP 503: renderer crashed" in p for p in problems), problems
    assert len(problems) == 1, problems
    wrong = config.api.workers.model_copy(update={"fields": {"id": "name", "last_heartbeat": "heartbeat"}})
    _, problems = check_online(config.model_copy(update={"api": config.api.model_copy(update={"workers": wrong})}))
    assert "api.workers.fields.last_heartbeat = 'heartbeat': not in the first item" in problems


def test_evidence_has_a_file_per_service_and_lists_what_is_not_configured(other_api, tmp_path):
    bundle = make_bundle(other_config(other_api, tmp_path, style=None, jobs=False), tmp_path / "evidence")
    names = {p.name for p in bundle.path.iterdir()}
    assert {"health-backend.json", "health-pdf.json", "health-optimizer.body", "workers.json"} <= names
    assert not {"jobs.json", "leases.json", "dead-letters.json"} & names
    manifest = json.loads((bundle.path / "manifest.json").read_text())
    assert set(manifest["not_configured"]) == {"jobs", "leases", "dead-letters", "backend-audit"}
    assert json.loads((bundle.path / "health-pdf.json").read_text()) == {"error": "renderer crashed"}  # a 503 is an answer
    assert (bundle.path / "health-optimizer.body").read_text() == "OK"  # judged by its HTTP status, kept as sent
    assert not any(f["source"] in ("jobs", "leases", "dead-letters") for f in manifest["failed"])


# -- the UI -----------------------------------------------------------------------------------


def notices(app) -> str:
    return "\n".join(n.message for n in app._notifications)


async def open_dead_letters(app, pilot) -> DeadLetterScreen:
    """`d` on the dashboard, once it has data; the screen with its first page."""
    await wait_for(pilot, lambda: app.dashboard.snapshot is not None, what="first snapshot")
    await pilot.press("d")
    screen = app.screen
    assert isinstance(screen, DeadLetterScreen)
    await wait_for(pilot, lambda: screen.page is not None, what="the first page")
    return screen


async def test_dashboard_shows_every_service_and_only_the_configured_panels(other_api, tmp_path):
    app = OpsConsoleApp(other_config(other_api, tmp_path, style="cursor"))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: "optimizer ok" in screen_text(app), what="every service on the health line")
        text = screen_text(app)
        health = next(line for line in text.splitlines() if line.strip().startswith("Health"))
        assert "backend ok" in health and "pdf DOWN 503" in health and "optimizer ok" in health
        assert "redis down" in health  # a failing component is kept before details and fine ones
        assert len(health.rstrip()) <= 80
        assert "Workers 1" in text and "Leases" not in text
        assert "Dead letters (10 on the first page)" in text and "no total from the API" in text  # never a page passed off as the queue
        assert "STALE" not in text
        assert not app.dashboard.query("#leases")


async def test_dead_letter_screen_pages_by_cursor_and_offers_only_the_apis_filters(other_api, tmp_path):
    app = OpsConsoleApp(other_config(other_api, tmp_path, style="cursor"))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_dead_letters(app, pilot)
        assert "page 1 · more" in screen_text(app)  # no total from this API: no made-up page count
        assert screen.page.items[0].id == "f-0001"
        await pilot.press("n", "n")
        await wait_for(pilot, lambda: screen.page is not None and screen.page.at.index == 2, what="page 3")
        assert screen.page.items[0].id == expected()[50]
        await pilot.press("p")
        await wait_for(pilot, lambda: screen.page.at.index == 1, what="back to page 2")
        assert screen.page.items[0].id == expected()[25]

        # No text filter in this API: `/` says so and nothing is filtered.
        await pilot.press("slash")
        await wait_for(pilot, lambda: "takes no text filter" in notices(app), what="the refusal")
        assert "not offered" not in screen_text(app)  # the class filter is offered
        assert "takes no text filter" in screen_text(app)  # the text box says so too
        await pilot.press("c")  # the first error class on the page
        await wait_for(pilot, lambda: screen.page is not None and screen.where.error_class != "", what="the class filter")
        chosen = screen.where.error_class
        await wait_for(pilot, lambda: screen.page is not None and {l.error_class for l in screen.page.items} == {chosen}, what="the filtered page")
        assert any(f"error={chosen}" in path for path in OtherApi.seen)  # the dashboard polls meanwhile

        await pilot.press("F")  # all that match, walked by cursor, counted at confirmation
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the batch confirmation")
        assert list(app.screen.plan.targets) == expected(chosen) and app.screen.plan.count == 40
        await pilot.press(*"retry 40", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, BatchScreen) and app.screen.outcome is not None, what="the batch")
        assert OtherApi.posted == [("/api/failed/retry", {"jobIds": expected(chosen)})]


async def test_offset_style_without_filters_and_no_lists_at_all(other_api, tmp_path):
    app = OpsConsoleApp(other_config(other_api, tmp_path, style="offset"))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_dead_letters(app, pilot)
        assert "120 matching · page 1/5" in screen_text(app)  # pages of 25: the config's max_limit caps the screen's 50
        assert "not offered by this API" in screen_text(app)
        await pilot.press("c")
        await wait_for(pilot, lambda: "takes no error class filter" in notices(app), what="the refusal")
        assert screen.where == DeadLetterFilter()

    # No lists at all: health has the room, one line per service; `d` says there is no list.
    app = OpsConsoleApp(other_config(other_api, tmp_path, style=None, workers=False))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: "optimizer ok" in screen_text(app), what="the health panel")
        lines = screen_text(app).splitlines()
        assert any("backend ok" in line and "version 2026.11.2" in line for line in lines)
        assert any("pdf DOWN 503" in line for line in lines)
        await pilot.press("d")
        await wait_for(pilot, lambda: "no dead-letter list" in notices(app), what="the plain answer")
        assert app.screen is app.dashboard
