"""Signals read from the API's JSON (`json = {...}`): queue counters, per-shard lag, a model's
error rate with its version. The API is a small real HTTP server on loopback that serves
those paths itself and relays everything else to the demo backend."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from console.config import SignalConfig
from console.config_actions import AuditConfig, IncidentConfig
from console.evidence import make_bundle
from console.models import Level
from console.online_check import check_online
from console.poller import HEALTH, METRICS, STATS, WORKERS, Poller
from screens.app import OpsConsoleApp
from screens.signals import SignalsScreen
from screens.widgets.signal_tile import SignalTile
from tests.conftest import config_for, screen_text, wait_for

JOBS, STREAMS, STATS_PATH = "/api/jobs/metrics", "/api/streams/recordings", "/v1/stats"


class StatsApi:
    """What each JSON path answers now (status, body, headers); a test changes it between
    polls. `hits` counts requests per path."""

    def __init__(self, upstream: str):
        self.upstream = upstream
        self.hits: Counter[str] = Counter()
        self.release = threading.Event()  # lets a hung answer go at teardown
        self.answers: dict[str, tuple[int, bytes, dict[str, str]]] = {}
        self.set(JOBS, {"waiting": 12, "active": 3, "completed": 1000})
        self.set(STREAMS, {"shards": [{"shard": "0", "lag": 5}, {"shard": "1", "lag": 40}, {"shard": "2", "lag": 7}]})
        self.set(STATS_PATH, {"model": {"version": "2026.11.2", "error_rate": 0.012}, "ocr": {"failure_rate": 0.03}})

    def set(self, path: str, body: object, status: int = 200, headers: dict[str, str] | None = None) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.answers[path] = (status, raw, headers or {})

    def handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path in api.answers:
                    api.hits[self.path] += 1
                    status, body, headers = api.answers[self.path]
                    if status == 0:  # hang past the client's timeout
                        api.release.wait(10)
                        return
                else:
                    try:
                        with urllib.request.urlopen(api.upstream + self.path, timeout=5) as answer:
                            status, body, headers = answer.status, answer.read(), {}
                    except urllib.error.HTTPError as exc:
                        status, body, headers = exc.code, exc.read(), {}
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64  # a poll opens every source at once; the default 5 drops SYNs (1 s retry)


@pytest.fixture
def stats_api(demo_server) -> Iterator[tuple[StatsApi, str]]:
    api = StatsApi(demo_server.url)
    server = ApiServer(("127.0.0.1", 0), api.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        api.release.set()
        server.shutdown()
        server.server_close()


def json_signal(name: str, title: str, json_value: dict, **more: object) -> SignalConfig:
    return SignalConfig.model_validate({"name": name, "title": title, "json": json_value, **more})


JSON_SIGNALS = [
    json_signal("queue_waiting", "Waiting", {"path": JOBS, "value": "waiting"}, unit="jobs", warn=100, crit=500),
    json_signal("queue_active", "Active", {"path": JOBS, "value": "active"}, tile=False),
    json_signal("jobs_completed", "Completed", {"path": JOBS, "value": "completed"}, kind="counter", unit="/min"),
    json_signal("stream_lag", "Stream lag", {"path": STREAMS, "items": "shards", "value": "lag", "labels": {"shard": "shard"}},
                aggregate="max", warn=1000),
    json_signal("model_error_rate", "Model errors", {"path": STATS_PATH, "value": "model.error_rate", "labels": {"model": "model.version"}},
                scale=100, unit="%", warn=2, crit=5),
    json_signal("ocr_failure_rate", "OCR failures", {"path": STATS_PATH, "value": "ocr.failure_rate", "labels": {"model": "model.version"}},
                scale=100, unit="%", tile=False),
]


def json_config(url: str, tmp_path=None, **overrides):
    base = config_for(url)
    signals = [s for s in base.signals if s.name in ("queue_depth", "terminal_error_rate")] + JSON_SIGNALS
    if tmp_path is not None:
        overrides |= {"incident": IncidentConfig(state_path=str(tmp_path / "state.db")), "audit": AuditConfig(path=str(tmp_path / "audit.jsonl"))}
    return config_for(url, signals=signals, **overrides)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_each_path_read_once_per_poll_into_values_rates_series_and_labels(stats_api):
    api, url = stats_api
    clock = Clock()
    poller = Poller(json_config(url), clock=clock)
    try:
        first = await poller.poll()
        assert dict(api.hits) == {JOBS: 1, STREAMS: 1, STATS_PATH: 1}  # three signals on JOBS, one request
        reading = {r.name: r for r in first.signals}
        assert reading["queue_waiting"].value == 12 and reading["queue_active"].value == 3
        assert reading["jobs_completed"].value is None and reading["jobs_completed"].note == "collecting"
        lag = reading["stream_lag"]
        assert lag.value == 40 and lag.series_count == 3
        assert [(s.labels, s.value) for s in lag.series] == [((("shard", "1"),), 40), ((("shard", "2"),), 7), ((("shard", "0"),), 5)]
        assert lag.labels == ()  # several series: the labels tell them apart, they describe none
        model = reading["model_error_rate"]
        assert model.value == pytest.approx(1.2) and model.labels == (("model", "2026.11.2"),) and model.level is Level.OK
        assert reading["ocr_failure_rate"].value == pytest.approx(3.0)
        assert first.source(STATS).ok_at is not None and not first.source(STATS).stale
        assert reading["queue_depth"].value is not None  # the scrape signals still come from /metrics

        api.set(JOBS, {"waiting": 612, "active": 3, "completed": 1120})
        clock.now += 60
        second = {r.name: r for r in (await poller.poll()).signals}
        assert second["jobs_completed"].value == pytest.approx(120.0)  # per minute, not the total
        assert second["queue_waiting"].level is Level.CRIT
        assert api.hits[JOBS] == 2

        api.set(JOBS, {"waiting": 612, "active": 3, "completed": 30})  # the queue's store restarted
        clock.now += 30
        third = {r.name: r for r in (await poller.poll()).signals}
        assert third["jobs_completed"].value == pytest.approx(60.0)  # 30 since the reset, in 30 s
    finally:
        await poller.aclose()


@pytest.mark.parametrize(
    ("jobs", "streams", "waiting_note", "lag_note"),
    [
        ({"active": 3}, {"shards": [{"shard": "0", "lag": 5}, {"shard": "1"}]}, "'waiting' missing", "'lag' missing in shards[1]"),
        ({"waiting": None}, {"shards": []}, "'waiting' is not a number: null", "'shards' is empty"),
        ({"waiting": "n/a"}, {"shards": {"0": 5}}, "'waiting' is not a number: 'n/a'", "'shards' is not a list"),
        ({"waiting": True}, {"lag": 3}, "'waiting' is not a number: True", "'shards' missing"),
    ],
)
async def test_a_missing_or_non_number_is_no_data_with_the_reason_never_zero(stats_api, jobs, streams, waiting_note, lag_note):
    api, url = stats_api
    api.set(JOBS, jobs)
    api.set(STREAMS, streams)
    poller = Poller(json_config(url), clock=Clock())
    try:
        snapshot = await poller.poll()
    finally:
        await poller.aclose()
    reading = {r.name: r for r in snapshot.signals}
    assert reading["queue_waiting"].value is None and reading["queue_waiting"].level is Level.NODATA
    assert reading["queue_waiting"].note == f"no data: {waiting_note}"
    assert reading["stream_lag"].value is None and reading["stream_lag"].note == f"no data: {lag_note}"
    # The API answered: no data is not a failure, and the other path's signals are read.
    assert not snapshot.source(STATS).stale and reading["model_error_rate"].value == pytest.approx(1.2)


async def test_a_failing_path_marks_only_its_own_signals_stale(stats_api):
    api, url = stats_api
    clock = Clock()
    poller = Poller(json_config(url, api={"timeout_s": 0.5}), clock=clock)
    try:
        await poller.poll()
        for answer, reason in [
            ((503, {"error": "stats store down"}), "HTTP 503: stats store down"),
            ((200, b'{"model": {"version": '), "malformed JSON: Expecting value at line 1 column 23"),
            ((0, b""), "timed out after 0.5s"),
        ]:
            status, body = answer
            api.set(STATS_PATH, body, status)
            api.set(JOBS, {"waiting": 20, "active": 3, "completed": 1000})
            clock.now += 5
            snapshot = await poller.poll()
            reading = {r.name: r for r in snapshot.signals}
            for name in ("model_error_rate", "ocr_failure_rate"):
                assert reading[name].error == reason
            # The last value and what it is about stay, marked by the error.
            assert reading["model_error_rate"].value == pytest.approx(1.2) and reading["model_error_rate"].labels == (("model", "2026.11.2"),)
            assert reading["queue_waiting"].value == 20 and reading["queue_waiting"].error == ""
            assert reading["stream_lag"].error == "" and reading["queue_depth"].error == ""
            assert snapshot.source(STATS).error == f"{STATS_PATH}: {reason}"
            assert not any(snapshot.source(name).stale for name in (HEALTH, METRICS, WORKERS))

        # A 429 with Retry-After: that path is left alone until the pause is over.
        api.set(STATS_PATH, {"error": "slow down"}, 429, {"Retry-After": "30"})
        await poller.poll()
        asked = api.hits[STATS_PATH]
        clock.now += 10
        snapshot = await poller.poll()
        assert api.hits[STATS_PATH] == asked
        assert {r.name: r for r in snapshot.signals}["model_error_rate"].error == "retry in 20s: HTTP 429 rate limited: slow down"
        api.set(STATS_PATH, {"model": {"version": "2026.12.0", "error_rate": 0.06}, "ocr": {"failure_rate": 0.01}})
        clock.now += 21
        snapshot = await poller.poll()
        model = {r.name: r for r in snapshot.signals}["model_error_rate"]
        assert (model.error, model.level, model.labels) == ("", Level.CRIT, (("model", "2026.12.0"),))
        assert not snapshot.source(STATS).stale
    finally:
        await poller.aclose()


def tile_lines(app, name: str) -> list[str]:
    return (str(app.dashboard.query_one(f"#tile-{name}", SignalTile).content).split("\n") + ["", "", ""])[:3]


def block_text(app, name: str) -> str:
    return str(app.screen.query_one(f"#signal-{name}").content)


async def test_dashboard_shows_json_signals_with_their_labels_and_staleness(stats_api):
    api, url = stats_api
    api.set(STATS_PATH, {"model": {"version": "\x1b[2J[bold]2026.11.2", "error_rate": 0.012}, "ocr": {"failure_rate": 0.03}})
    app = OpsConsoleApp(json_config(url))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: "/min" in tile_lines(app, "jobs_completed")[1], what="a completed rate after two readings")
        text = screen_text(app)
        assert "Waiting" in text and "12 jobs" in text and "Stream lag" in text and "40" in tile_lines(app, "stream_lag")[1]
        # The model version, shown literally: the escape sequence and the markup are inert.
        assert tile_lines(app, "model_error_rate")[2].startswith("␛[2J[bold]2026.11.2")
        assert "▌␛[2J[bold]20…" in text and "\x1b" not in text  # cut to the tile's width
        assert "data <5s old" in text

        api.set(STATS_PATH, {"error": "stats store down"}, 503)
        await wait_for(pilot, lambda: "STALE stats" in screen_text(app), what="the header naming the stats source")
        text = screen_text(app)
        assert "/v1/stats: HTTP 503: stats store down" in text
        assert tile_lines(app, "model_error_rate")[0].endswith("stale")
        assert tile_lines(app, "model_error_rate")[1].startswith("1.2")  # the last value, kept
        for name in ("queue_waiting", "stream_lag", "queue_depth"):
            assert "stale" not in tile_lines(app, name)[0], name

        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, SignalsScreen) and app.screen.query("#signal-stream_lag"), what="signals screen")
        lag = block_text(app, "stream_lag")
        assert "3 series:" in lag and lag.index("shard=1") < lag.index("shard=2") < lag.index("shard=0")
        model = block_text(app, "model_error_rate")
        assert "model=␛[2J[bold]2026.11.2" in model and "HTTP 503: stats store down" in model


def test_check_config_online_names_missing_numbers_and_evidence_saves_each_path_once(stats_api, tmp_path):
    api, url = stats_api
    api.set(STATS_PATH, {"model": {"version": "2026.11.2"}, "ocr": {"failure_rate": 0.03}})
    config = json_config(url, tmp_path)
    ok, problems = check_online(config)
    assert problems == [f"signals model_error_rate: {STATS_PATH}: 'model.error_rate' missing"]
    assert f"{JOBS}: 3 of 3 signals found" in ok and "metrics at" in " ".join(ok)

    hits = api.hits.copy()
    bundle = make_bundle(config, tmp_path / "out")
    assert api.hits - hits == Counter({JOBS: 1, STREAMS: 1, STATS_PATH: 1})
    saved = json.loads((bundle.path / "json-api-jobs-metrics.json").read_text())
    assert saved == {"waiting": 12, "active": 3, "completed": 1000}
    view = {s["name"]: s for s in json.loads((bundle.path / "signals.json").read_text())["signals"]}
    assert view["stream_lag"]["value"] == 40 and view["stream_lag"]["series"] == 3
    assert view["model_error_rate"]["missing"] == "'model.error_rate' missing" and view["model_error_rate"]["value"] is None
    assert view["jobs_completed"]["counter_total"] == 1000
