"""The demo backend's large lease tables (`--held-leases`, for the fleet benchmark)."""

from __future__ import annotations

import httpx

from console.demo.server import DemoServer


def test_held_leases_are_served_renewed_and_expire_with_a_stalled_worker():
    server = DemoServer(port=0, speed=0, seed=2, workers=10, held_leases=40).start()
    try:
        with httpx.Client(base_url=server.url, timeout=5) as client:
            leases = client.get("/v1/leases").json()
            workers = client.get("/v1/workers").json()["workers"]
            assert len(leases["leases"]) >= 40
            assert sum(w["leases_held"] for w in workers) == len(leases["leases"])
            # Heartbeats renew held leases: none has expired after ten minutes.
            client.post("/sim/advance", json={"seconds": 600}).raise_for_status()
            leases = client.get("/v1/leases").json()
            assert len(leases["leases"]) >= 40 and all(lease["expires_at"] >= leases["now"] for lease in leases["leases"])
            # Stalled workers stop renewing: their held leases expire and stay held.
            client.post("/sim/scenario", json={"scenario": "stale-leases"}).raise_for_status()
            client.post("/sim/advance", json={"seconds": 60}).raise_for_status()
            leases = client.get("/v1/leases").json()
            assert sum(1 for lease in leases["leases"] if lease["expires_at"] < leases["now"]) >= 4 * 3
    finally:
        server.stop()


async def test_dashboard_shows_the_first_rows_of_a_large_lease_table_and_counts_all():
    from screens.app import OpsConsoleApp
    from screens.widgets.tables import LIVE_ROWS
    from tests.conftest import config_for, wait_for

    server = DemoServer(port=0, speed=0, seed=2, workers=10, held_leases=LIVE_ROWS + 50).start()
    try:
        total = len(httpx.get(server.url + "/v1/leases", timeout=5).json()["leases"])
        app = OpsConsoleApp(config_for(server.url))
        async with app.run_test(size=(120, 30)) as pilot:
            table = app.dashboard.query_one("#leases DataTable")
            await wait_for(pilot, lambda: table.row_count == LIVE_ROWS, what="a full lease table")
            assert str(app.dashboard.query_one("#leases").border_title) == f"Leases {total:,}, first {LIVE_ROWS}"
    finally:
        server.stop()
