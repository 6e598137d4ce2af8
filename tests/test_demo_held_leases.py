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
