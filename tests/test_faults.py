"""Fault injection in the demo backend (POST /sim/faults), and the console under each fault:
it keeps running, marks only the affected panel stale with the reason, honours Retry-After
and recovers when the fault clears. Real demo backend on loopback, real HTTP."""

from __future__ import annotations

import time

import httpx
import pytest

from console.demo.faults import HOSTILE_TEXT, parse_cli
from console.format import coarse_age
from console.sources.http import http_error, retry_after_s
from console.demo.server import DemoServer
from screens.app import OpsConsoleApp
from tests.conftest import config_for, requests_to, screen_text, set_faults, wait_for


# -- the backend side: what an HTTP client sees under each fault ------------------------


@pytest.fixture(scope="module")
def backend():
    """One frozen backend for the HTTP-only tests (stopping a server takes half a second)."""
    server = DemoServer(port=0, speed=0, seed=7).start()
    yield server
    server.stop()


@pytest.fixture
def faulty(backend):
    set_faults(backend)
    yield backend
    set_faults(backend)


@pytest.mark.parametrize(
    "fault, check",
    [
        ({"kind": "status", "status": 502, "message": "bad gateway"}, lambda r: r.status_code == 502 and r.json() == {"error": "bad gateway"}),
        ({"kind": "rate-limit", "retry_after": 7}, lambda r: r.status_code == 429 and r.headers["retry-after"] == "7"),
        ({"kind": "malformed"}, lambda r: r.status_code == 200 and r.content.startswith(b"{") and not r.content.endswith(b"}")),
        ({"kind": "huge", "size_mb": 2}, lambda r: r.status_code == 200 and len(r.content) > 2 * 1024 * 1024 and r.json()["workers"]),
        ({"kind": "non-utf8"}, lambda r: r.status_code == 200 and b"\xff\xfe" in r.content),
        ({"kind": "hostile"}, lambda r: r.json()["workers"][0]["id"] == HOSTILE_TEXT + "w-01"),
        ({"kind": "hostile", "status": 500, "text": "\x1b]52;c;eA==\x07"}, lambda r: r.status_code == 500 and r.json()["error"] == "\x1b]52;c;eA==\x07"),
    ],
    ids=lambda value: value["kind"] + str(value.get("status", "")) if isinstance(value, dict) else "",
)
def test_each_fault_as_an_http_client_sees_it(faulty, fault, check):
    set_faults(faulty, {"route": "/v1/workers", **fault})
    with httpx.Client(base_url=faulty.url, timeout=5) as client:
        assert check(client.get("/v1/workers"))
        # Only the chosen route misbehaves.
        assert client.get("/v1/leases").status_code == 200 and client.get("/v1/leases").json()["leases"] is not None


@pytest.mark.parametrize("kind, error", [("truncated", httpx.RemoteProtocolError), ("reset", httpx.ReadError)])
def test_broken_connections(faulty, kind, error):
    set_faults(faulty, {"route": "/metrics", "kind": kind})
    with httpx.Client(base_url=faulty.url, timeout=5) as client, pytest.raises(error):
        client.get("/metrics")


def test_latency_delays_the_answer(faulty):
    set_faults(faulty, {"route": "/healthz", "kind": "latency", "seconds": 0.4})
    started = time.monotonic()
    assert httpx.get(faulty.url + "/healthz", timeout=5).json()["status"] == "ok"
    assert time.monotonic() - started >= 0.4


def test_faults_are_set_read_counted_and_cleared(faulty):
    view = set_faults(faulty, {"route": "/v1/dlq", "kind": "status"}, {"kind": "latency", "seconds": 0})
    assert view["faults"] == [
        {"kind": "status", "route": "/v1/dlq", "status": 0, "message": ""},
        {"kind": "latency", "route": "*", "seconds": 0},
    ]
    url, before = faulty.url, requests_to(faulty, "/v1/dlq")
    assert httpx.get(url + "/v1/dlq", timeout=5).status_code == 503  # the first match wins
    assert httpx.get(url + "/v1/dlq?limit=1", timeout=5).status_code == 503  # a prefix of the path
    assert requests_to(faulty, "/v1/dlq") == before + 2
    # The controls are never faulted, so a fault can always be cleared.
    assert httpx.get(url + "/sim/state", timeout=5).status_code == 200
    assert httpx.delete(url + "/sim/faults", timeout=5).json()["faults"] == []
    assert httpx.get(url + "/v1/dlq", timeout=5).status_code == 200
    set_faults(faulty, {"kind": "reset"})
    assert httpx.post(url + "/sim/faults", content=b"", timeout=5).json()["faults"] == []  # an empty body clears


@pytest.mark.parametrize(
    "body, mentions",
    [
        ({"kind": "explode"}, "kind must be one of"),
        ({"kind": "latency", "seconds": -1}, "seconds must be between"),
        ({"kind": "status", "status": 200}, "status must be between 400"),
        ({"kind": "latency", "route": "/sim/state"}, "never faulted"),
        ({"kind": "latency", "route": "metrics"}, "route must be"),
        ({"kind": "latency", "sconds": 3}, "unknown fault key 'sconds'"),
        ({"faults": {"kind": "reset"}}, "faults must be a list"),
    ],
)
def test_bad_fault_specs_are_400_with_a_message(faulty, body, mentions):
    reply = httpx.post(faulty.url + "/sim/faults", json=body, timeout=5)
    assert reply.status_code == 400 and mentions in reply.json()["error"]


def test_command_line_fault_specs():
    assert parse_cli("/metrics:latency:10").view() == {"kind": "latency", "route": "/metrics", "seconds": 10.0}
    assert parse_cli("/healthz:rate-limit:30").retry_after == "30"
    assert parse_cli("*:hostile").text == HOSTILE_TEXT
    assert parse_cli('{"kind": "status", "route": "/v1/dlq", "status": 500}').status == 500
    for bad, mentions in [("metrics", "ROUTE:KIND"), ("/x:reset:3", "takes no value"), ("/x:latency:soon", "not a number")]:
        with pytest.raises(ValueError, match=mentions):
            parse_cli(bad)


# -- the console side: the affected panel goes stale with the reason, then recovers ------

PANEL_FAULTS = [
    ("/v1/workers", {"kind": "latency", "seconds": 2}, "#workers", "timed out after 0.5s"),
    ("/v1/workers", {"kind": "status", "message": "upstream down"}, "#workers", "HTTP 503: upstream down"),
    ("/v1/leases", {"kind": "malformed"}, "#leases", "malformed JSON"),
    ("/v1/leases", {"kind": "truncated"}, "#leases", "connection dropped"),
    ("/v1/dlq", {"kind": "reset"}, "#dead-letters", "connection reset"),
    ("/v1/dlq", {"kind": "huge"}, "#dead-letters", "response larger than 8 MB"),
    ("/v1/workers", {"kind": "non-utf8"}, "#workers", "malformed JSON: not UTF-8"),
    ("/healthz", {"kind": "malformed"}, "#health", "malformed JSON"),
    ("/metrics", {"kind": "non-utf8"}, "#status-bar", "malformed metrics: not UTF-8"),
]


@pytest.mark.parametrize("route, fault, widget, reason", PANEL_FAULTS, ids=[f"{r}-{f['kind']}" for r, f, _, _ in PANEL_FAULTS])
async def test_console_marks_the_faulted_panel_and_recovers(faulty, route, fault, widget, reason):
    app = OpsConsoleApp(config_for(faulty.url, api={"timeout_s": 0.5}))
    async with app.run_test(size=(160, 40)) as pilot:
        dashboard = app.dashboard
        await wait_for(pilot, lambda: app.dashboard.snapshot is not None and "STALE" not in screen_text(app), what="a healthy first poll")
        set_faults(faulty, {"route": route, **fault})
        await pilot.press("r")
        await wait_for(pilot, lambda: reason in screen_text(app), what=f"{reason!r} on screen")
        if widget != "#status-bar":
            assert dashboard.query_one(widget).has_class("-stale")
        # Only the faulted source is stale: the others keep refreshing.
        others = [p for p in ("#health", "#workers", "#leases", "#dead-letters") if p != widget]
        assert not any(dashboard.query_one(p).has_class("-stale") for p in others)
        assert "STALE" in screen_text(app)

        set_faults(faulty)
        await pilot.press("r")
        await wait_for(pilot, lambda: "STALE" not in screen_text(app), what="recovery")
        assert not dashboard.query_one(widget).has_class("-stale")
        assert app.is_running


async def test_retry_after_is_honoured_and_shown(faulty):
    app = OpsConsoleApp(config_for(faulty.url))  # refresh every 0.5 s
    async with app.run_test(size=(160, 40)) as pilot:
        workers = app.dashboard.query_one("#workers")
        await wait_for(pilot, lambda: app.dashboard.snapshot is not None, what="first snapshot")
        set_faults(faulty, {"route": "/v1/workers", "kind": "rate-limit", "retry_after": 2})
        await wait_for(pilot, lambda: "HTTP 429 rate limited" in screen_text(app), what="the 429 on screen")
        asked = requests_to(faulty, "/v1/workers")
        assert workers.has_class("-stale") and "retry in " in screen_text(app)
        # Polls (and a manual refresh) go on for the other sources, not for this one.
        polls = app.polls_started
        await pilot.press("r")
        await pilot.pause(1.0)
        assert app.polls_started > polls + 1
        assert requests_to(faulty, "/v1/workers") == asked
        set_faults(faulty)
        await wait_for(pilot, lambda: not workers.has_class("-stale"), timeout=5, what="recovery after Retry-After")
        assert requests_to(faulty, "/v1/workers") > asked


async def test_different_faults_at_once_each_panel_says_its_own(faulty):
    app = OpsConsoleApp(config_for(faulty.url))
    async with app.run_test(size=(120, 30)) as pilot:
        dashboard = app.dashboard
        workers_table = dashboard.query_one("#workers DataTable")
        await wait_for(pilot, lambda: workers_table.row_count == 8, what="workers on screen")
        set_faults(
            faulty,
            {"route": "/v1/workers", "kind": "status"},
            {"route": "/v1/leases", "kind": "malformed"},
            {"route": "/metrics", "kind": "malformed"},
        )
        await pilot.press("r")
        workers, leases = dashboard.query_one("#workers"), dashboard.query_one("#leases")
        await wait_for(pilot, lambda: workers.has_class("-stale") and leases.has_class("-stale"), what="stale panels")
        await wait_for(pilot, lambda: "malformed metrics" in screen_text(app), what="the header naming the metrics reason")
        text = screen_text(app)
        assert "HTTP 503" in text and "malformed JSON" in text
        assert not dashboard.query_one("#dead-letters").has_class("-stale")
        assert workers_table.row_count == 8  # the last good rows stay


def test_retry_after_forms_and_error_messages():
    now = 1_800_000_000.0
    assert retry_after_s("20", now) == 20
    assert retry_after_s("Thu, 01 Jan 1970 00:00:10 GMT", 0.0) == 10
    assert retry_after_s("Thu, 01 Jan 1970 00:00:10 GMT", 100.0) == 0  # already past
    assert retry_after_s("99999999", now) == 600  # capped: a pause, not blindness
    assert retry_after_s("soon", now) is None and retry_after_s("", now) is None
    headers = httpx.Headers({"Retry-After": "7"})
    error = http_error(503, headers, b'{"error": "draining", "code": 17}')
    assert str(error) == "HTTP 503: draining" and error.retry_after_s == 7
    assert str(http_error(502, httpx.Headers(), b"<html>\n<h1>Bad gateway</h1>")) == "HTTP 502: <html>"
    assert str(http_error(429, httpx.Headers(), b"")) == "HTTP 429 rate limited"
    assert len(str(http_error(500, httpx.Headers(), b"x" * 5000))) < 200


def test_coarse_ages():
    assert [coarse_age(s) for s in (0, 9.9, 10, 59, -3, -25, 99, 100, None)] == [
        "<10s", "<10s", "10s", "50s", "-<10s", "-20s", "90s", "1m", "?"
    ]
    assert coarse_age(4.9, 5) == "<5s" and coarse_age(12, 5) == "10s"
