"""Prometheus and Alertmanager as sources, against real servers (Debian's packages) that
scrape the real demo backend on loopback."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from console.config import Config, parse_config, shipped_config_path
from console.demo.server import DemoServer
from console.format import number
from screens.alert_detail import AlertDetailScreen
from screens.app import OpsConsoleApp
from screens.help import HelpScreen
from screens.signals import SignalsScreen
from screens.widgets.signal_tile import SignalTile
from tests.conftest import screen_text, wait_for
from bench.metrics_servers import QUEUE_ALERT_THRESHOLD, Server, binary, start_alertmanager, start_prometheus, wait_for_scrapes

ROOT = Path(__file__).resolve().parent.parent
SCRAPES = 'count_over_time(up{job="demo"}[10m])'  # how many times Prometheus scraped the demo

SIGNALS = [
    {"name": "queue_depth", "title": "Queue depth", "query": "sum(oris_runtime_queue_depth)", "unit": "jobs",
     "warn": 100, "crit": QUEUE_ALERT_THRESHOLD, "drain": True},
    {"name": "workers", "title": "Workers", "query": "sum by (state) (oris_runtime_workers)"},
    {"name": "dead_letters", "title": "Dead letters", "query": "oris_runtime_dlq_size"},
]


def shipped_for(demo: DemoServer) -> dict[str, Any]:
    """The shipped config as TOML data, aimed at `demo` and refreshing twice a second."""
    data = tomllib.loads(shipped_config_path().read_text())
    data["api"]["base_url"] = demo.url
    data["refresh_interval_s"] = 0.5
    return data


def prometheus_config(
    demo: DemoServer, prometheus_url: str, alertmanager: Server | None = None, metrics: dict[str, Any] | None = None, **top: Any
) -> Config:
    """The shipped config with its metrics from Prometheus: validated like a user's file."""
    data = shipped_for(demo)
    data["metrics"] = {"source": "prometheus", "url": prometheus_url, "timeout_s": 2, "window_min": 2,
                       "trend_window_min": 0.2, "range_refresh_s": 1, **(metrics or {})}
    data["signals"] = top.pop("signals", SIGNALS)
    data["severity_hints"] = top.pop("severity_hints", [])
    data["exit_criteria"] = top.pop("exit_criteria", [])
    data["runbooks"] = top.pop("runbooks", {})  # the shipped suggestions name the shipped signals
    if alertmanager is not None:
        data["alertmanager"] = {"url": alertmanager.url, "timeout_s": 2}
    data.update(top)
    return parse_config(data)


def prom_value(prometheus: Server, query: str) -> float:
    result = httpx.get(prometheus.url + "/api/v1/query", params={"query": query}, timeout=5).json()["data"]["result"]
    return float(result[0]["value"][1])


def tile_lines(app, name: str) -> list[str]:
    return str(app.dashboard.query_one(f"#tile-{name}", SignalTile).content).split("\n")


def reading(app, name: str):
    snapshot = app.dashboard.snapshot
    return None if snapshot is None else next(r for r in snapshot.signals if r.name == name)


@pytest.fixture
def frozen_demo() -> Iterator[DemoServer]:
    server = DemoServer(port=0, speed=0, seed=7, warmup_s=120).start()
    yield server
    server.stop()


@pytest.fixture
def fast_demo() -> Iterator[DemoServer]:
    """Forty workers at 30x: a backlog builds by about a hundred jobs a second."""
    server = DemoServer(port=0, speed=30, seed=7, workers=40, warmup_s=60).start()
    yield server
    server.stop()


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[Server]:
    server = start_alertmanager(tmp_path / "alertmanager")
    yield server
    server.stop()


def _prometheus(tmp_path: Path, demo: DemoServer, alertmanager: Server | None = None) -> Server:
    target = demo.url.removeprefix("http://")
    server = start_prometheus(tmp_path / "prometheus", target, alertmanager.url.removeprefix("http://") if alertmanager else None)
    wait_for_scrapes(server)
    return server


async def test_tile_shows_what_promql_returns_and_the_largest_series(frozen_demo, tmp_path):
    prometheus = _prometheus(tmp_path, frozen_demo)
    try:
        app = OpsConsoleApp(prometheus_config(frozen_demo, prometheus.url))
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: (r := reading(app, "queue_depth")) is not None and r.value is not None,
                           what="a queue depth from Prometheus")
            depth = prom_value(prometheus, "sum(oris_runtime_queue_depth)")
            assert tile_lines(app, "queue_depth")[1].startswith(f"{number(depth)} jobs")
            assert reading(app, "workers").value == prom_value(prometheus, "sum(oris_runtime_workers)")
            # The hidden-by-default breakdown: the signals screen lists the series with labels.
            await pilot.press("s")
            await wait_for(pilot, lambda: isinstance(app.screen, SignalsScreen) and "state=" in screen_text(app),
                           what="the signals screen")
            text = screen_text(app)
            busy = prom_value(prometheus, 'sum by (state) (oris_runtime_workers{state="busy"})')
            assert f"{number(busy)}  state=busy" in text
            assert "series:" in text and "Queue depth" in text
            await wait_for(pilot, lambda: screen_text(app).splitlines()[0].startswith(" demo "), what="the environment on top")
            await pilot.press("escape")
            assert not isinstance(app.screen, SignalsScreen)
    finally:
        prometheus.stop()


async def test_backlog_turns_queue_rising_and_crit_and_fires_the_alert(fast_demo, alertmanager, tmp_path):
    prometheus = _prometheus(tmp_path, fast_demo, alertmanager)
    hint = {"severity": "SEV-1", "reason": "queue rising with no drain", "signal": "queue_depth",
            "trend": ["rising"], "for_min": 0.1}
    try:
        config = prometheus_config(fast_demo, prometheus.url, alertmanager, severity_hints=[hint])
        app = OpsConsoleApp(config)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: "none firing" in screen_text(app), what="an empty alerts panel")
            scrapes_before = prom_value(prometheus, SCRAPES)
            httpx.post(fast_demo.url + "/sim/scenario", json={"scenario": "backlog"}, timeout=5)
            await wait_for(
                pilot,
                lambda: (r := reading(app, "queue_depth")) is not None and r.level.value == "crit"
                and r.trend is not None and r.trend.direction.value == "rising",
                timeout=40, what="queue depth crit and rising",
            )
            await wait_for(pilot, lambda: "QueueDepthHigh" in screen_text(app), timeout=40, what="the alert in the panel")
            scrapes = prom_value(prometheus, SCRAPES) - scrapes_before
            assert scrapes <= 40, f"the alert took {scrapes:g} scrapes"
            text = screen_text(app)
            assert "no drain" in tile_lines(app, "queue_depth")[2]
            assert "Alerts 1 firing" in text and "critical" in text
            await wait_for(pilot, lambda: "suggests SEV-1" in screen_text(app), timeout=20, what="the SEV-1 hint")
            assert "queue rising with no drain" in screen_text(app)

            app.dashboard.query_one("#alerts DataTable").focus()
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, AlertDetailScreen), what="the alert detail")
            detail = screen_text(app)
            assert "https://runbooks.example/queue#rising-with-no-dispatch" in detail
            assert "alertname" in detail and "severity" in detail and "summary" in detail
            await pilot.press("escape")
            assert not isinstance(app.screen, AlertDetailScreen)
    finally:
        prometheus.stop()


async def test_prometheus_down_marks_its_tiles_stale_and_the_rest_keeps_working(frozen_demo, tmp_path):
    prometheus = _prometheus(tmp_path, frozen_demo)
    app = OpsConsoleApp(prometheus_config(frozen_demo, prometheus.url))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: (r := reading(app, "queue_depth")) is not None and r.value is not None,
                       what="a first answer from Prometheus")
        last_value = reading(app, "queue_depth").value
        prometheus.stop()
        await wait_for(pilot, lambda: "STALE metrics" in screen_text(app), timeout=15, what="metrics marked stale")
        text = screen_text(app)
        assert "connection refused" in text
        assert "stale" in tile_lines(app, "queue_depth")[0]
        assert tile_lines(app, "queue_depth")[1].startswith(number(last_value))  # the last value stays, marked
        # Everything else keeps polling: the workers panel follows the backend.
        polls = app.polls_started
        frozen_demo.sim.advance(30)
        await wait_for(pilot, lambda: app.polls_started >= polls + 2, what="more polls")
        assert not app.dashboard.snapshot.source("workers").stale
        assert "Workers 8" in screen_text(app)
        await pilot.press("question_mark")  # keys still answer
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="the keys screen")


async def test_promql_syntax_error_shows_on_that_tile_only(frozen_demo, tmp_path):
    prometheus = _prometheus(tmp_path, frozen_demo)
    broken = [*SIGNALS[:2], {"name": "broken", "title": "Broken", "query": "sum(oris_runtime_queue_depth"}]
    try:
        app = OpsConsoleApp(prometheus_config(frozen_demo, prometheus.url, signals=broken))
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: (r := reading(app, "broken")) is not None and r.error, what="the rejection")
            lines = tile_lines(app, "broken")
            assert lines[0].startswith("Broken stale")
            assert lines[2].startswith("query rejected: bad_data")
            assert reading(app, "queue_depth").error == "" and reading(app, "queue_depth").value is not None
            assert not app.dashboard.snapshot.source("metrics").stale
            assert "STALE" not in screen_text(app).splitlines()[0]
            await pilot.press("s")
            await wait_for(pilot, lambda: "parse error" in screen_text(app), what="the full error on the signals screen")
    finally:
        prometheus.stop()


def write_config(path: Path, demo: DemoServer, prometheus_url: str, signals: list[dict[str, Any]]) -> Path:
    lines = [
        'environment = "check"',
        "[api]",
        f'base_url = "{demo.url}"',
        'jobs = { path = "/v1/jobs", items = "jobs" }',
        'workers = { path = "/v1/workers", items = "workers" }',
        'leases = { path = "/v1/leases", items = "leases" }',
        'dead_letters = { path = "/v1/dlq", items = "items" }',
        "[metrics]",
        'source = "prometheus"',
        f'url = "{prometheus_url}"',
    ]
    for signal in signals:
        lines += ["[[signals]]", f'name = "{signal["name"]}"', f'title = "{signal["title"]}"', f"query = {signal['query']!r}"]
    path.write_text("\n".join(lines) + "\n")
    return path


def check_online(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console.cli", "check-config", "--online", str(path)],
        capture_output=True, text=True, cwd=ROOT, env=dict(os.environ), timeout=60,
    )


def test_check_config_online_names_the_queries_prometheus_rejects(frozen_demo, tmp_path):
    prometheus = _prometheus(tmp_path, frozen_demo)
    try:
        good = write_config(tmp_path / "good.toml", frozen_demo, prometheus.url, SIGNALS)
        result = check_online(good)
        assert result.returncode == 0, result.stderr
        assert "3 queries accepted" in result.stdout

        bad = [*SIGNALS, {"name": "typo", "title": "Typo", "query": "sum(rate(oris_runtime_jobs_total[5m])"},
               {"name": "bad_fn", "title": "Bad fn", "query": "no_such_function(up)"}]
        result = check_online(write_config(tmp_path / "bad.toml", frozen_demo, prometheus.url, bad))
        assert result.returncode == 2
        assert "signals typo: query rejected: bad_data" in result.stderr
        assert "signals bad_fn: query rejected: bad_data" in result.stderr
        assert "queue_depth" not in result.stderr
        assert "Traceback" not in result.stderr
    finally:
        prometheus.stop()
    result = check_online(good)  # Prometheus is gone now
    assert result.returncode == 2
    assert "connection refused" in result.stderr and "Traceback" not in result.stderr


def test_the_prometheus_profile_works_against_real_servers(frozen_demo, alertmanager, tmp_path):
    """The profile users copy: every query accepted, Alertmanager and the API answering."""
    prometheus = _prometheus(tmp_path, frozen_demo)
    try:
        text = (ROOT / "profiles/prometheus/config.toml").read_text()
        for shipped, real in (("http://127.0.0.1:8080", frozen_demo.url), ("http://127.0.0.1:9090", prometheus.url),
                              ("http://127.0.0.1:9093", alertmanager.url)):
            assert shipped in text
            text = text.replace(shipped, real)
        path = tmp_path / "profile.toml"
        path.write_text(text)
        result = check_online(path)
        assert result.returncode == 0, result.stderr
        assert "7 queries accepted" in result.stdout and "Alertmanager at" in result.stdout
    finally:
        prometheus.stop()


def test_the_profiles_alert_rules_and_scrape_job_are_valid_prometheus_config(tmp_path):
    promtool = binary("promtool")
    rules = ROOT / "profiles/prometheus/alert-rules.yml"
    checked = subprocess.run([promtool, "check", "rules", str(rules)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "2 rules found" in checked.stdout
    config = tmp_path / "prometheus.yml"
    config.write_text((ROOT / "profiles/prometheus/prometheus-scrape.yml").read_text() + f"rule_files: ['{rules}']\n")
    checked = subprocess.run([promtool, "check", "config", str(config)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr


async def test_a_hung_prometheus_never_blocks_keys(frozen_demo, silent_server, tmp_path):
    """Prometheus accepts connections and never answers: keys still work at once, the other
    panels fill in, and the tiles go stale with the deadline as the reason."""
    app = OpsConsoleApp(prometheus_config(frozen_demo, silent_server, metrics={"timeout_s": 1}))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: "Workers 8" in screen_text(app), what="the workers panel")
        assert app.dashboard.snapshot.source("metrics").ok_at is None
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)  # no waiting: the press is handled at once
        await pilot.press("escape")
        await wait_for(pilot, lambda: "timed out after 1s" in screen_text(app), what="the metrics deadline")
        assert "no data: timed out" in screen_text(app) or "STALE metrics" in screen_text(app)


async def test_alertmanager_down_marks_only_the_alerts_panel_stale(frozen_demo, alertmanager):
    data = shipped_for(frozen_demo)
    data["alertmanager"] = {"url": alertmanager.url, "timeout_s": 1}
    app = OpsConsoleApp(parse_config(data))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: "Alerts 0 firing" in screen_text(app), what="an answer from Alertmanager")
        alertmanager.stop()
        await wait_for(pilot, lambda: "connection refused" in screen_text(app), timeout=15, what="the alerts panel stale")
        assert app.dashboard.query_one("#alerts").has_class("-stale")
        snapshot = app.dashboard.snapshot
        assert [name for name, state in snapshot.sources.items() if state.stale] == ["alerts"]
        assert reading(app, "queue_depth").value is not None
