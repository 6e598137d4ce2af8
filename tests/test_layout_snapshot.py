"""The 80x24 layout must not regress: an SVG snapshot of the dashboard on a frozen demo.

Regenerate after an intended change with `./scripts/test tests/test_layout_snapshot.py --snapshot-update`
and look at the SVG before committing it.
"""

from __future__ import annotations

from screens.app import OpsConsoleApp
from tests.conftest import config_for, wait_for


def test_dashboard_layout_at_80x24(demo_server, snap_compare):
    server = demo_server
    server.sim.set_scenario("stale-leases")
    server.sim.advance(120)
    # One poll only (long refresh) and a stopped clock, so sparklines, counter tiles and
    # data ages are the same on every run.
    app = OpsConsoleApp(config_for(server.url, refresh_interval_s=600.0), clock=lambda: 1_800_000_000.0)

    async def first_snapshot(pilot):
        await wait_for(pilot, lambda: app.dashboard.snapshot is not None, what="first snapshot")
        await wait_for(pilot, lambda: app.dashboard.runbooks is not None, what="the suggested runbook's title")
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=(80, 24), run_before=first_snapshot)
