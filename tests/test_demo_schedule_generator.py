"""The demo backend speaking the schedule generator's API: three services' health, BullMQ
job counts and lists, the failed set read by start/count, retries in the ledger, and
container figures that follow the fault scenarios. Over real HTTP on loopback."""

from __future__ import annotations

import pytest

from tests.profile_e2e import profile_backend
from tests.demo_http import DEMO_URL, advance, curl_commands, get, post


@pytest.fixture
def backend():
    with profile_backend("schedule-generator") as server:
        yield server





def metric(server, name: str, labels: str = "") -> float:
    for line in get(server, "/metrics").text.splitlines():
        if line.startswith(f"{name}{labels} "):
            return float(line.split()[-1])
    raise AssertionError(f"{name}{labels} not on /metrics")


def test_each_service_answers_its_own_health_and_a_failing_one_says_503(backend):
    assert [get(backend, p).json()["status"] for p in ("/health", "/pdf-worker/health", "/optimizer/health")] == ["ok", "healthy", "ok"]
    advance(backend, 5, "storage-outage")
    down = get(backend, "/health")
    assert down.status_code == 503 and down.json()["status"] == "error" and down.json()["checks"]["storage"] == "down"
    assert get(backend, "/optimizer/health").status_code == 200
    advance(backend, 5, "provider-outage")
    assert get(backend, "/optimizer/health").json()["checks"] == {"solver": "timeouts"}
    assert get(backend, "/health").status_code == 200
    advance(backend, 5, "backlog")
    worker = get(backend, "/pdf-worker/health")
    assert worker.status_code == 503 and worker.json()["checks"]["queue"] == "not consuming"


def test_job_counts_match_the_job_list_and_waiting_grows_in_a_backlog(backend):
    advance(backend, 120, "backlog")
    counts = get(backend, "/api/jobs/metrics").json()
    assert set(counts) == {"waiting", "active", "completed", "failed", "delayed", "paused"}
    jobs = get(backend, "/api/jobs?limit=500").json()
    assert isinstance(jobs, list)  # BullMQ's getJobs: the body is the list
    assert counts["waiting"] == sum(1 for job in jobs if job["state"] == "waiting") > 0
    assert len(get(backend, "/api/jobs?state=waiting&limit=500").json()) == counts["waiting"]
    first = jobs[0]
    assert first["id"].isdigit() and isinstance(first["timestamp"], int)
    assert get(backend, f"/api/jobs/{first['id']}").json()["id"] == first["id"]
    post(backend, "/sim/advance", {"seconds": 120})
    assert get(backend, "/api/jobs/metrics").json()["waiting"] > counts["waiting"]


def test_failed_jobs_page_by_start_and_count_newest_first(backend):
    advance(backend, 300, "error-spike")
    total = get(backend, "/api/jobs/failed?start=0&count=1").json()["total"]
    assert total > 20
    seen = []
    for start in range(0, total, 7):
        page = get(backend, f"/api/jobs/failed?start={start}&count=7").json()
        assert page["total"] == total
        seen += [job["id"] for job in page["jobs"]]
    assert len(seen) == len(set(seen)) == total
    assert [int(i) for i in seen] == sorted((int(i) for i in seen), reverse=True)
    assert get(backend, "/api/jobs/failed?start=0&count=201").status_code == 400
    assert get(backend, "/api/jobs/metrics").json()["failed"] == total


def test_retries_are_applied_and_land_in_the_ledger(backend):
    advance(backend, 300, "error-spike")
    failed = [job["id"] for job in get(backend, "/api/jobs/failed?start=0&count=3").json()["jobs"]]
    one = post(backend, f"/api/jobs/{failed[0]}/retry")
    assert one.status_code == 200 and one.json() == {"id": failed[0], "state": "waiting"}
    assert get(backend, f"/api/jobs/{failed[0]}").json()["state"] == "waiting"
    batch = post(backend, "/api/jobs/failed/retry", {"jobIds": [*failed[1:], "999999"]})
    assert batch.json() == {"retried": failed[1:], "missing": ["999999"]}
    assert post(backend, f"/api/jobs/{failed[0]}/retry").status_code == 404  # no longer failed
    assert post(backend, "/api/jobs/failed/retry", {"jobIds": "all"}).status_code == 400
    ledger = [(m["path"], m["status"], m["applied"]) for m in backend.mutations]
    assert ledger == [
        (f"/api/jobs/{failed[0]}/retry", 200, True),
        ("/api/jobs/failed/retry", 200, True),
        (f"/api/jobs/{failed[0]}/retry", 404, False),
        ("/api/jobs/failed/retry", 400, False),
    ]


def test_metrics_follow_the_scenario(backend):
    calm = {name: metric(backend, name) for name in ("schedgen_http_error_ratio", "schedgen_http_p95_seconds")}
    assert calm["schedgen_http_error_ratio"] < 0.01 and calm["schedgen_http_p95_seconds"] < 2
    advance(backend, 120, "provider-outage")
    assert metric(backend, "schedgen_http_p95_seconds") > 10
    advance(backend, 60, "stale-leases")
    leaking = metric(backend, "container_memory_percent", '{container="pdf-worker"}')
    post(backend, "/sim/advance", {"seconds": 400})
    assert metric(backend, "container_memory_percent", '{container="pdf-worker"}') > max(80, leaking)
    assert get(backend, "/pdf-worker/health").json()["checks"]["memory"] == "high"
    advance(backend, 120, "backpressure")
    assert metric(backend, "container_cpu_percent", '{container="backend"}') > 80
    assert metric(backend, "container_memory_percent", '{container="pdf-worker"}') < 60  # restarted
    advance(backend, 120, "storage-outage")
    assert metric(backend, "schedgen_http_error_ratio") > 0.05


def test_every_curl_in_the_profiles_runbooks_answers_from_the_demo(backend):
    commands = curl_commands("schedule-generator")
    assert len(commands) >= 6
    for url in commands:
        reply = get(backend, url.removeprefix(DEMO_URL))
        assert reply.status_code == 200 and reply.json() is not None, url
