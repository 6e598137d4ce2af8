"""The dashboard against the real demo backend, driven through the keyboard."""

from __future__ import annotations

import httpx
import pytest

from console.format import number
from console.sources.metrics_scrape import parse_exposition
from screens.app import OpsConsoleApp
from screens.help import HelpScreen
from screens.widgets.signal_tile import SignalTile
from tests.conftest import config_for, screen_text, set_faults, wait_for


def backend_json(server, path: str):
    return httpx.get(server.url + path, timeout=5).json()


def backend_metric(server, name: str) -> float:
    samples = parse_exposition(httpx.get(server.url + "/metrics", timeout=5).text)
    return sum(value for _, value in samples[name])


def tile_text(app, name: str) -> str:
    """The tile's value line (the line under its title)."""
    return str(app.dashboard.query_one(f"#tile-{name}", SignalTile).content).split("\n")[1]


def has_data(app) -> bool:
    snap = app.dashboard.snapshot
    return snap is not None and all(s.ok_at is not None for s in snap.sources.values())


async def test_dashboard_shows_the_backends_numbers(demo_server):
    server = demo_server
    server.sim.set_scenario("provider-outage")
    server.sim.advance(300)
    app = OpsConsoleApp(config_for(server.url))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: has_data(app), what="first data from every source")
        await pilot.pause(0.1)
        depth = backend_metric(server, "oris_runtime_queue_depth")
        error_rate = backend_metric(server, "oris_runtime_terminal_error_rate") * 100
        assert tile_text(app, "queue_depth").startswith(number(depth))
        assert tile_text(app, "terminal_error_rate").startswith(number(error_rate))

        workers = backend_json(server, "/v1/workers")["workers"]
        dlq = backend_json(server, "/v1/dlq?limit=50")
        leases = backend_json(server, "/v1/leases")["leases"]
        text = screen_text(app)
        assert f"Workers {len(workers)}" in text
        assert f"Leases {len(leases)}" in text
        assert f"Dead letters {dlq['total']:,}" in text
        top_class, top_count = next(iter(dlq["error_classes"].items()))
        assert f"{top_count:,} {top_class}"[:24] in text, text
        assert workers[0]["id"] in text
        assert "Health" in text and "provider" in text and "failing" in text
        assert " demo " in text and "every 0.5s" in text


async def test_counter_signal_shows_a_rate_not_the_raw_total(demo_server):
    server = demo_server
    server.sim.set_scenario("backpressure")
    server.sim.advance(120)
    app = OpsConsoleApp(config_for(server.url))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: has_data(app), what="first data")
        assert "collecting" in tile_text(app, "backpressure")
        await wait_for(
            pilot,
            lambda: "/min" in tile_text(app, "backpressure"),
            what="a backpressure rate after the second scrape",
        )
        total = backend_metric(server, "oris_runtime_backpressure_total")
        # Frozen backend: no new refusals between scrapes, so the rate is 0, not the total.
        assert tile_text(app, "backpressure").startswith("0 /min"), (tile_text(app, "backpressure"), total)
        assert total > 0


async def test_scenario_switch_shows_up(demo_server):
    server = demo_server
    app = OpsConsoleApp(config_for(server.url))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: has_data(app), what="first data")
        tile = app.dashboard.query_one("#tile-queue_depth", SignalTile)
        assert tile.has_class("-ok"), tile_text(app, "queue_depth")
        before = backend_metric(server, "oris_runtime_queue_depth")

        httpx.post(server.url + "/sim/scenario", json={"scenario": "backlog"}, timeout=5).raise_for_status()
        httpx.post(server.url + "/sim/advance", json={"seconds": 900}, timeout=5).raise_for_status()
        after = backend_metric(server, "oris_runtime_queue_depth")
        assert after > 500 > before

        await pilot.press("r")
        await wait_for(pilot, lambda: tile.has_class("-crit"), what="queue depth tile to turn crit")
        assert tile_text(app, "queue_depth").startswith(number(after))
        assert "CRIT" in screen_text(app)


async def test_stopped_backend_marks_panels_stale_and_keeps_last_data(demo_server):
    server = demo_server
    app = OpsConsoleApp(config_for(server.url))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: has_data(app), what="first data")
        workers_before = app.dashboard.query_one("#workers DataTable").row_count
        assert workers_before > 0
        server.stop()
        await pilot.press("r")
        panel = app.dashboard.query_one("#workers")
        await wait_for(pilot, lambda: panel.has_class("-stale"), what="workers panel to go stale")
        text = screen_text(app)
        assert "connection refused" in text
        assert "STALE" in text
        # Health leads with its staleness: an old green "ok" must not reassure.
        await wait_for(pilot, lambda: "Health runtime stale" in screen_text(app), what="health to go stale")
        assert "last answer: ok" in screen_text(app)
        # Last good data stays on screen.
        assert app.dashboard.query_one("#workers DataTable").row_count == workers_before
        tile = app.dashboard.query_one("#tile-queue_depth", SignalTile)
        assert tile.has_class("-stale") and tile_text(app, "queue_depth")[0].isdigit()
        # And the console still answers keys.
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)


async def test_hung_backend_never_blocks_keys(silent_server):
    config = config_for(silent_server, api={"timeout_s": 30.0})
    app = OpsConsoleApp(config)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.polls_started == 1, what="the first poll to start")
        await pilot.press("question_mark")
        # The poll is still waiting on the silent backend, yet the key was handled.
        assert isinstance(app.screen, HelpScreen)
        assert app.dashboard.snapshot is None
        await pilot.press("escape")
        assert app.screen is app.dashboard
        assert "connecting" in screen_text(app)


async def test_refresh_key_and_palette_start_a_poll(demo_server):
    app = OpsConsoleApp(config_for(demo_server.url, refresh_interval_s=60.0))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: has_data(app), what="first data")
        started = app.polls_started
        await pilot.press("r")
        await wait_for(pilot, lambda: app.polls_started == started + 1, what="r to start a poll")

        started = app.polls_started
        await pilot.press("ctrl+p")
        await pilot.press(*"Refresh now")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.polls_started > started, what="the palette command to poll")


async def test_polls_never_overlap(silent_server):
    app = OpsConsoleApp(config_for(silent_server, api={"timeout_s": 30.0}))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.polls_started == 1, what="the first poll to start")
        await pilot.press("r", "r", "r")
        await pilot.pause(0.2)
        # The hung poll is still running: the presses queued one follow-up, not three more polls.
        assert app.polls_started == 1
        assert app._poll_again


async def test_keys_can_be_remapped_from_config(demo_server):
    app = OpsConsoleApp(config_for(demo_server.url, refresh_interval_s=60.0, keys={"refresh": "f5"}))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: has_data(app), what="first data")
        started = app.polls_started
        await pilot.press("f5")
        await wait_for(pilot, lambda: app.polls_started == started + 1, what="f5 to refresh")
        await pilot.press("question_mark")
        assert "f5" in screen_text(app).lower()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
async def test_every_panel_fits(demo_server, size):
    app = OpsConsoleApp(config_for(demo_server.url))
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: has_data(app), what="first data")
        width, height = size
        for selector in ("#status-bar", ".tile", "#health", "#workers", "#leases", "#dead-letters", "Footer"):
            for widget in app.dashboard.query(selector):
                region = widget.region
                assert region.width > 0 and region.height > 0, selector
                assert region.right <= width and region.bottom <= height, (selector, region)
        workers_table = app.dashboard.query_one("#workers DataTable")
        # At least a few worker rows are visible even at 80x24; more on a larger terminal.
        visible_rows = workers_table.region.height - 1
        assert visible_rows >= (4 if height == 24 else 15)


async def test_exit_criteria_and_severity_hint_follow_the_backend(demo_server):
    """Scrape source: a flat queue meets 'falling or flat'; a backlog turns it rising, breaks
    the criterion and raises the SEV-1 suggestion."""
    from console.config import ExitCriterionConfig, ScrapeMetricsConfig, SeverityHintConfig

    server = demo_server
    config = config_for(
        server.url,
        metrics=ScrapeMetricsConfig(window_min=2, trend_window_min=0.05),  # a 3 s trend window
        exit_criteria=[ExitCriterionConfig(title="backlog falling or flat", signal="queue_depth",
                                           trend=["falling", "flat"], for_min=0.03)],
        severity_hints=[SeverityHintConfig(severity="SEV-1", reason="queue rising, no drain", signal="queue_depth",
                                           trend=["rising"], for_min=0.03)],
    )
    app = OpsConsoleApp(config)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: "✓ backlog falling or flat" in screen_text(app), what="the criterion met")
        assert "suggests" not in screen_text(app)
        server.sim.set_scenario("backlog")
        for _ in range(40):  # the backend's time moves only when the test says so
            server.sim.advance(20)
            await pilot.pause(0.2)
            if "suggests SEV-1" in screen_text(app):
                break
        text = screen_text(app)
        assert "suggests SEV-1" in text and "queue rising, no drain" in text
        assert "✗ backlog falling or flat (not now)" in text
        assert "↑" in tile_text_line(app, "queue_depth", 2) and "no drain" in tile_text_line(app, "queue_depth", 2)

        # Once an incident is declared at SEV-2, the hint says what it is now; at SEV-1, it goes.
        incident = app.controls.store.declare("Queue not draining", "SEV-2", "", "test")
        await wait_for(pilot, lambda: "(incident is SEV-2)" in screen_text(app), what="the hint beside SEV-2")
        app.controls.store.set_severity(incident.id, "SEV-1", "test")
        await wait_for(pilot, lambda: "suggests" not in screen_text(app), what="the hint gone at SEV-1")


def tile_text_line(app, name: str, line: int) -> str:
    return str(app.dashboard.query_one(f"#tile-{name}", SignalTile).content).split("\n")[line]


async def test_header_keeps_stale_and_read_only_in_80_columns_with_a_long_badge(demo_server, tmp_path):
    """A SEV-1 badge with its status and update countdown, in a production environment,
    must not push STALE off an 80-column header: the app's name and the refresh interval
    give way first."""
    from console.config_actions import AuditConfig, IncidentConfig
    from console.incident import IncidentStore

    config = config_for(
        demo_server.url,
        environment="prod-eu-central-1",
        incident=IncidentConfig(state_path=str(tmp_path / "state.db")),
        audit=AuditConfig(path=str(tmp_path / "audit.jsonl")),
    )
    IncidentStore(tmp_path / "state.db").declare("Provider outage", "SEV-1", "", "bob")
    app = OpsConsoleApp(config)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: "READ-ONLY" in screen_text(app).splitlines()[0], what="the read-only badge")
        set_faults(demo_server, {"route": "/metrics", "kind": "status", "status": 503})
        await pilot.press("r")
        await wait_for(pilot, lambda: "STALE" in screen_text(app).splitlines()[0], what="STALE in the header")
        header = screen_text(app).splitlines()[0]
        assert "prod-eu-central-1" in header and "READ-ONLY" in header and "SEV-1" in header
        assert "every" not in header  # the least useful part gave way
    set_faults(demo_server)
