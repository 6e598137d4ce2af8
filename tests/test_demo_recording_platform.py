"""The demo backend speaking the recording platform's API: the hourly retention job and its
backlog under a storage outage, pause and manual runs in the ledger, stream lag per shard,
consumers and pending entries, failures read by cursor, restores. Over real HTTP."""

from __future__ import annotations

import pytest

from tests.profile_e2e import profile_backend
from tests.demo_http import DEMO_URL, advance, curl_commands, get, post


@pytest.fixture
def backend():
    with profile_backend("recording-platform") as server:
        yield server





def storage_errors(server) -> dict[str, float]:
    lines = get(server, "/metrics").text.splitlines()
    return {line.split('"')[1]: float(line.split()[-1]) for line in lines if line.startswith("recording_storage_errors_total{")}


def test_hourly_runs_keep_the_backlog_down_until_storage_refuses_deletes(backend):
    status = get(backend, "/api/retention/status").json()
    assert status["window_days"] == 30 and status["backlog_threshold"] == 10_000 and not status["paused"]
    advance(backend, 3600)
    healthy = get(backend, "/api/retention/status").json()
    assert healthy["last_run"]["status"] == "succeeded" and healthy["last_run"]["deleted_count"] > 4000
    assert healthy["backlog"] < 5000
    before = storage_errors(backend)

    advance(backend, 3 * 3600, "storage-outage")
    outage = get(backend, "/api/retention/status").json()
    assert outage["last_run"]["status"] == "failed" and outage["last_run"]["deleted_count"] < 50
    assert outage["backlog"] > 10_000  # three failed runs: past the alert threshold
    after = storage_errors(backend)
    assert after["delete"] >= before["delete"] + 3 * 500 and after["put"] > before["put"] + 1000
    health = get(backend, "/api/health")
    assert health.status_code == 503 and health.json()["checks"]["s3"] == "failing"
    assert health.json()["detector"]["version"] and health.json()["database"]["role"] == "primary"

    advance(backend, 3600, "healthy")
    assert get(backend, "/api/retention/status").json()["backlog"] < 5000  # the next run catches up


def test_pause_stops_scheduled_runs_and_refuses_manual_ones_all_in_the_ledger(backend):
    assert post(backend, "/api/retention/pause").json()["paused"] is True
    run_before = get(backend, "/api/retention/status").json()["last_run"]
    advance(backend, 2 * 3600)
    paused = get(backend, "/api/retention/status").json()
    assert paused["last_run"] == run_before and paused["next_run_at"] is None
    assert paused["backlog"] > 10_000
    refused = post(backend, "/api/retention/runs")
    assert refused.status_code == 409 and "paused" in refused.json()["error"]
    assert post(backend, "/api/retention/pause").status_code == 409  # already paused
    assert post(backend, "/api/retention/resume").json()["paused"] is False
    run = post(backend, "/api/retention/runs")
    assert run.status_code == 200 and run.json()["deleted_count"] == paused["backlog"]
    assert run.json()["trigger"] == "manual (api)"
    assert get(backend, "/api/retention/status").json()["backlog"] == 0
    assert [(m["path"], m["status"]) for m in backend.mutations] == [
        ("/api/retention/pause", 200),
        ("/api/retention/runs", 409),
        ("/api/retention/pause", 409),
        ("/api/retention/resume", 200),
        ("/api/retention/runs", 200),
    ]


def test_stream_lag_per_shard_grows_when_consumers_stop_and_on_the_noisy_tenants_shard(backend):
    calm = get(backend, "/api/streams/recordings").json()
    assert [s["shard"] for s in calm["shards"]] == ["0", "1", "2", "3"]
    assert sum(s["lag"] for s in calm["shards"]) < 20
    advance(backend, 600, "backlog")
    lagging = get(backend, "/api/streams/recordings").json()["shards"]
    assert all(s["lag"] > 30 for s in lagging)
    advance(backend, 600, "backpressure")
    shards = {s["shard"]: s["lag"] for s in get(backend, "/api/streams/recordings").json()["shards"]}
    assert max(shards, key=shards.get) == "1"  # t-globex, the noisy tenant, has its own shard


def test_consumers_and_pending_entries_name_each_other(backend):
    advance(backend, 60, "stale-leases")
    consumers = get(backend, "/api/streams/recordings/consumers").json()["consumers"]
    entries = get(backend, "/api/streams/recordings/pending").json()["entries"]
    assert entries and {e["consumer"] for e in entries} <= {c["name"] for c in consumers}
    for consumer in consumers:
        assert consumer["pending"] == sum(1 for e in entries if e["consumer"] == consumer["name"])
    assert any(c["state"] == "stalled" for c in consumers)
    assert all(e["entry_id"].split("-")[0].isdigit() and e["claimable_at"] > e["delivered_at"] for e in entries)


def test_failures_page_by_cursor_without_shifting_when_new_ones_arrive(backend):
    advance(backend, 600, "error-spike")
    first = get(backend, "/api/failures?limit=10").json()
    total = first["total"]
    assert total > 30 and first["next_cursor"]
    seen = [f["id"] for f in first["failures"]]
    cursor = first["next_cursor"]
    advance(backend, 120)  # more failures arrive at the head while we page
    while cursor:
        page = get(backend, f"/api/failures?limit=10&cursor={cursor}").json()
        seen += [f["id"] for f in page["failures"]]
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen)) == total  # exactly the queue as it was: no repeats, no gaps
    assert sum(first["by_reason"].values()) == total and "UnreadableMedia" in first["by_reason"]

    only = get(backend, "/api/failures?limit=200&reason=UnreadableMedia").json()
    assert only["failures"] and {f["reason"] for f in only["failures"]} == {"UnreadableMedia"}
    assert get(backend, "/api/failures?reason=Nope").status_code == 400
    assert get(backend, "/api/failures?cursor=bm90LWEtY3Vyc29y").status_code == 400


def test_retry_and_restore_are_applied_and_recorded(backend):
    advance(backend, 300, "error-spike")
    ids = [f["id"] for f in get(backend, "/api/failures?limit=3").json()["failures"]]
    assert post(backend, f"/api/failures/{ids[0]}/retry").json() == {"id": ids[0], "state": "requeued"}
    assert post(backend, "/api/failures/retry", {"ids": [*ids[1:], "f-9999999"]}).json() == {"retried": ids[1:], "missing": ["f-9999999"]}
    remaining = {f["id"] for f in get(backend, "/api/failures?limit=200").json()["failures"]}
    assert not remaining & set(ids)

    restore = post(backend, "/api/recordings/rec-0000042/restore", {"days": 3})
    assert restore.json()["status"] == "in-progress"
    assert post(backend, "/api/recordings/rec-0000042/restore", {"days": 3}).status_code == 409
    assert post(backend, "/api/recordings/x/restore", {"days": 3}).status_code == 404
    advance(backend, 4 * 3600)
    assert get(backend, "/api/recordings/rec-0000042/restore").json()["status"] == "restored"
    assert [m["status"] for m in backend.mutations] == [200, 200, 200, 409, 404]


def test_every_curl_in_the_profiles_runbooks_answers_from_the_demo(backend):
    advance(backend, 600, "error-spike")  # so the failures page has entries of each reason
    commands = curl_commands("recording-platform")
    assert len(commands) >= 5
    for url in commands:
        reply = get(backend, url.removeprefix(DEMO_URL))
        assert reply.status_code == 200 and reply.json() is not None, url
