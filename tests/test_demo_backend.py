"""The built-in demo backend over real HTTP on loopback: endpoint shapes, scenarios,
determinism, dead-letter paging, error replies and shutdown.

Servers run frozen (speed 0); time moves only through POST /sim/advance, so every number
asserted here is a pure function of the seed and the requests made.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from console.demo import SCENARIOS
from console.demo.server import DemoServer
from console.sources.metrics_scrape import Samples, parse_exposition

JSON = "application/json"
METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8"
JOB_STATES = ("queued", "running", "retrying", "succeeded", "dead_lettered")
WORKER_STATES = {"idle", "busy", "stalled", "draining"}
ISO_BYTES = re.compile(rb'"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)"')
COUNTERS = (
    "oris_runtime_backpressure_total",
    "oris_runtime_jobs_total",
    "oris_runtime_lease_conflicts_total",
    "oris_runtime_stage_failures_total",
)


# -- helpers ---------------------------------------------------------------------------------


def ts(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def age_s(now: str, then: str) -> float:
    return (ts(now) - ts(then)).total_seconds()


def relative_body(body: bytes) -> bytes:
    """The body with every timestamp replaced by its offset from the body's "now".

    The simulation's epoch is the wall clock at construction, so absolute times differ
    between two otherwise identical servers; offsets from "now" must not.
    """
    now = ts(json.loads(body)["now"])
    return ISO_BYTES.sub(lambda m: b'"%+.3f"' % (ts(m[1].decode()) - now).total_seconds(), body)


def metric(samples: Samples, name: str, **labels: str) -> float:
    found = [v for lbl, v in samples.get(name, []) if all(lbl.get(k) == want for k, want in labels.items())]
    assert len(found) == 1, f"{name}{labels}: expected one sample, got {samples.get(name)}"
    return found[0]


def counter_samples(samples: Samples) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(name, tuple(sorted(lbl.items()))): v for name in COUNTERS for lbl, v in samples[name]}


class Api:
    """A kept-alive httpx client on one demo server, with assertions on every reply."""

    def __init__(self, server: DemoServer):
        self.server = server
        self.client = httpx.Client(base_url=server.url, timeout=10)

    def close(self) -> None:
        self.client.close()

    def raw(self, path: str) -> httpx.Response:
        reply = self.client.get(path)
        assert reply.status_code == 200, reply.text
        assert reply.headers["content-type"] == JSON
        return reply

    def get(self, path: str) -> Any:
        return self.raw(path).json()

    def metrics_text(self) -> str:
        reply = self.client.get("/metrics")
        assert reply.status_code == 200, reply.text
        assert reply.headers["content-type"] == METRICS_TYPE
        return reply.text

    def metrics(self) -> Samples:
        return parse_exposition(self.metrics_text())

    def post(self, path: str, body: Any) -> Any:
        reply = self.client.post(path, json=body)
        assert reply.status_code == 200, reply.text
        assert reply.headers["content-type"] == JSON
        return reply.json()

    def advance(self, seconds: float) -> dict[str, Any]:
        return self.post("/sim/advance", {"seconds": seconds})

    def scenario(self, name: str) -> None:
        assert self.post("/sim/scenario", {"scenario": name}) == {"scenario": name}

    def error(self, method: str, path: str, status: int, **kwargs: Any) -> str:
        reply = self.client.request(method, path, **kwargs)
        assert reply.status_code == status, reply.text
        assert reply.headers["content-type"] == JSON
        body = reply.json()
        assert set(body) == {"error"} and body["error"], body
        return body["error"]


def stop_all(servers: list[DemoServer]) -> None:
    # Each stop() waits out serve_forever's poll interval; stop them side by side.
    threads = [threading.Thread(target=server.stop) for server in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)


def new_server(**options: Any) -> DemoServer:
    return DemoServer(port=0, **{"speed": 0, "seed": 7, "warmup_s": 120, **options}).start()


@pytest.fixture
def make_api() -> Iterator[Callable[..., Api]]:
    """Fresh frozen servers with any simulation options; all stopped afterwards."""
    apis: list[Api] = []

    def make(**options: Any) -> Api:
        api = Api(new_server(**options))
        apis.append(api)
        return api

    yield make
    for api in apis:
        api.close()
    stop_all([api.server for api in apis])


@pytest.fixture
def api(demo_server: DemoServer) -> Iterator[Api]:
    client = Api(demo_server)
    yield client
    client.close()


@pytest.fixture(scope="module")
def frozen() -> Iterator[Api]:
    """Healthy, seed 7, never advanced or switched by the tests that share it."""
    client = Api(new_server())
    yield client
    client.close()
    client.server.stop()


@pytest.fixture(scope="module")
def outage() -> Iterator[Api]:
    """Seed 7 after 300 s of provider outage (read-only for the tests that share it)."""
    client = Api(new_server())
    client.scenario("provider-outage")
    client.advance(300)
    yield client
    client.close()
    client.server.stop()


# -- endpoint shapes -------------------------------------------------------------------------


def test_healthz_reports_ok_with_every_check(frozen: Api) -> None:
    health = frozen.get("/healthz")
    assert set(health) == {"status", "now", "scenario", "checks"}
    assert health["status"] == "ok"
    assert health["scenario"] == "healthy"
    assert health["checks"] == {"api": "ok", "queue": "ok", "workers": "ok", "provider": "ok", "storage": "ok"}
    assert health["now"] == frozen.get("/sim/state")["now"]


def test_metrics_exposition_has_every_signal_and_agrees_with_the_api(outage: Api) -> None:
    samples = outage.metrics()
    for name in (
        "oris_runtime_queue_depth",
        "oris_runtime_lease_conflict_rate",
        "oris_runtime_recovery_latency_ms",
        "oris_runtime_terminal_error_rate",
        "oris_runtime_dlq_size",
    ):
        assert metric(samples, name) >= 0
    for rate in ("oris_runtime_lease_conflict_rate", "oris_runtime_terminal_error_rate"):
        assert 0 <= metric(samples, rate) <= 1
    assert {lbl["reason"] for lbl, _ in samples["oris_runtime_backpressure_total"]} == {"worker_limit", "tenant_limit"}
    assert {lbl["outcome"] for lbl, _ in samples["oris_runtime_jobs_total"]} == {"succeeded", "retried", "dead_lettered"}

    dlq = outage.get("/v1/dlq?limit=1")
    assert dlq["total"] > 0
    assert metric(samples, "oris_runtime_dlq_size") == dlq["total"]
    # No preload: every dead-lettered job is one DLQ entry.
    assert metric(samples, "oris_runtime_jobs_total", outcome="dead_lettered") == dlq["total"]
    assert {lbl["error_class"]: v for lbl, v in samples["oris_runtime_dlq_entries"]} == dlq["error_classes"]
    assert metric(samples, "oris_runtime_queue_depth") == outage.get("/v1/jobs?state=queued&limit=1")["total"]
    assert metric(samples, "oris_runtime_jobs_total", outcome="succeeded") == outage.get("/v1/jobs?state=succeeded&limit=1")["total"]

    workers = outage.get("/v1/workers")["workers"]
    by_state = Counter(w["state"] for w in workers)
    assert {lbl["state"]: v for lbl, v in samples["oris_runtime_workers"]} == {s: by_state[s] for s in WORKER_STATES}
    leases = outage.get("/v1/leases")["leases"]
    assert metric(samples, "oris_runtime_leases_held") == len(leases)


def test_jobs_list_limit_order_and_state_filter(outage: Api) -> None:
    everything = outage.get("/v1/jobs?limit=500")
    assert set(everything) == {"now", "total", "jobs"}
    assert everything["total"] >= 20
    assert len(everything["jobs"]) == min(everything["total"], 500)
    ids = [job["id"] for job in everything["jobs"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)

    page = outage.get("/v1/jobs?limit=5")
    assert page["total"] == everything["total"]
    assert page["jobs"] == everything["jobs"][:5]
    assert outage.get("/v1/jobs")["jobs"] == everything["jobs"][:20]  # default limit

    keys = {"id", "tenant", "state", "stage", "attempts", "max_attempts", "worker_id", "created_at", "updated_at", "last_error"}
    per_state = {}
    for state in JOB_STATES:
        listed = outage.get(f"/v1/jobs?state={state}&limit=500")
        per_state[state] = listed["total"]
        for job in listed["jobs"]:
            assert set(job) == keys
            assert job["state"] == state
            assert (job["worker_id"] is not None) == (state == "running")
            assert job["created_at"] <= job["updated_at"] <= listed["now"]
            assert 0 <= job["attempts"] <= job["max_attempts"] == 3
    assert sum(per_state.values()) == everything["total"]
    assert per_state["succeeded"] > 0 and per_state["dead_lettered"] > 0


def test_job_detail_and_unknown_job(outage: Api) -> None:
    listed = outage.get("/v1/jobs?state=dead_lettered&limit=1")["jobs"][0]
    detail = outage.get(f"/v1/jobs/{listed['id']}")
    assert set(detail) == {"now", "job"}
    job = detail["job"]
    assert {k: job[k] for k in listed} == listed
    assert job["last_error"].startswith("Provider") or ":" in job["last_error"]
    assert job["payload"]["tenant"] == job["tenant"]
    assert job["payload"]["source_uri"].startswith("s3://")
    events = [entry["event"] for entry in job["history"]]
    assert events[-1] == "dead_lettered" and "failed" in events
    assert [entry["at"] for entry in job["history"]] == sorted(entry["at"] for entry in job["history"])

    message = outage.error("GET", "/v1/jobs/job-999999", 404)
    assert "job-999999" in message


def test_workers_and_leases_are_consistent(frozen: Api) -> None:
    workers_body = frozen.get("/v1/workers")
    now = workers_body["now"]
    workers = {w["id"]: w for w in workers_body["workers"]}
    assert list(workers) == [f"w-{i:02d}" for i in range(1, 9)]
    for worker in workers.values():
        assert set(worker) == {"id", "state", "last_heartbeat_at", "current_job_id", "leases_held", "started_at", "jobs_done"}
        assert worker["state"] in {"idle", "busy"}  # healthy: nobody stalled
        assert (worker["current_job_id"] is not None) == (worker["state"] == "busy")
        assert 0 <= age_s(now, worker["last_heartbeat_at"]) <= 5  # heartbeats every 5 s
        assert worker["started_at"] <= worker["last_heartbeat_at"]

    leases_body = frozen.get("/v1/leases")
    assert leases_body["now"] == now
    leases = leases_body["leases"]
    assert leases, "a healthy fleet at 70% load holds leases"
    assert len({lease["id"] for lease in leases}) == len(leases)
    assert sum(w["leases_held"] for w in workers.values()) == len(leases)
    for lease in leases:
        assert set(lease) == {"id", "job_id", "worker_id", "acquired_at", "expires_at", "ttl_s"}
        assert lease["ttl_s"] == 30
        assert workers[lease["worker_id"]]["current_job_id"] == lease["job_id"]
        assert lease["acquired_at"] <= now < lease["expires_at"]
        assert age_s(lease["expires_at"], now) <= lease["ttl_s"]
        job = frozen.get(f"/v1/jobs/{lease['job_id']}")["job"]
        assert job["state"] == "running" and job["worker_id"] == lease["worker_id"]


def test_dlq_page_shape(outage: Api) -> None:
    page = outage.get("/v1/dlq?limit=10&offset=3")
    assert set(page) == {"now", "total", "offset", "limit", "error_classes", "items"}
    assert (page["offset"], page["limit"]) == (3, 10)
    assert page["total"] == sum(page["error_classes"].values()) > 13
    counts = list(page["error_classes"].values())
    assert counts == sorted(counts, reverse=True)
    assert len(page["items"]) == 10
    for item in page["items"]:
        assert set(item) == {"id", "job_id", "error_class", "message", "attempts", "first_failed_at", "last_failed_at", "payload"}
        assert item["error_class"] in page["error_classes"]
        assert item["first_failed_at"] <= item["last_failed_at"] <= page["now"]
        assert item["payload"]["lecture_id"].startswith("lec-")
    default = outage.get("/v1/dlq")
    assert (default["offset"], default["limit"]) == (0, 50)
    assert default["items"][3:13] == page["items"]


def test_sim_state_frozen_and_advance(api: Api) -> None:
    state = api.get("/sim/state")
    assert state == {"scenario": "healthy", "speed": 0, "seed": 7, "sim_time_s": 120.0, "now": state["now"]}
    metrics_before = api.metrics_text()
    time.sleep(0.3)  # speed 0: wall time passing must not move anything
    assert api.get("/sim/state") == state
    assert api.metrics_text() == metrics_before

    moved = api.advance(30)
    assert moved == {"now": moved["now"], "sim_time_s": 150.0}
    assert age_s(moved["now"], state["now"]) == 30
    assert api.get("/sim/state")["sim_time_s"] == 150.0
    assert api.get("/healthz")["now"] == moved["now"]
    assert api.metrics_text() != metrics_before

    assert api.advance(0)["sim_time_s"] == 150.0
    assert api.advance(2.5)["sim_time_s"] == 152.5


def test_audit_log_records_switches_and_advances_newest_first(api: Api) -> None:
    assert api.get("/v1/audit/logs") == {"now": api.get("/sim/state")["now"], "logs": []}
    api.scenario("backlog")
    api.advance(10)
    api.scenario("healthy")
    logs = api.get("/v1/audit/logs")["logs"]
    assert [(e["action"], e["target"]) for e in logs] == [
        ("scenario.set", "healthy"),
        ("sim.advance", "10s"),
        ("scenario.set", "backlog"),
    ]
    for entry in logs:
        assert set(entry) == {"at", "actor", "action", "target", "detail"}
    assert "from backlog to healthy" in logs[0]["detail"]
    assert age_s(logs[0]["at"], logs[2]["at"]) == 10
    assert api.get("/v1/audit/logs?limit=2")["logs"] == logs[:2]


def test_each_scenario_switch_shows_in_state_and_health(api: Api) -> None:
    expected = {
        "healthy": {},
        "backlog": {"queue": "backlog", "workers": "not claiming"},
        "provider-outage": {"provider": "failing"},
        "storage-outage": {"storage": "failing"},
        "stale-leases": {"workers": "stalled"},
        "backpressure": {"queue": "tenant limit"},
        "error-spike": {},
    }
    assert set(expected) == set(SCENARIOS)
    for name in (*SCENARIOS, "healthy"):
        api.scenario(name)
        assert api.get("/sim/state")["scenario"] == name
        health = api.get("/healthz")
        assert health["scenario"] == name
        failing = {check: value for check, value in health["checks"].items() if value != "ok"}
        assert failing == expected[name], name
        assert health["status"] == ("degraded" if failing else "ok")


# -- scenarios -------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 7])  # 1 is the CLI's default seed
def test_healthy_stays_healthy(make_api: Callable[..., Api], seed: int) -> None:
    api = make_api(seed=seed)
    for _ in range(60):  # ten simulated minutes, looked at every 10 s
        api.advance(10)
        samples = api.metrics()
        assert metric(samples, "oris_runtime_queue_depth") < 50
        assert metric(samples, "oris_runtime_terminal_error_rate") < 0.01
        assert metric(samples, "oris_runtime_leases_expired") == 0
        assert metric(samples, "oris_runtime_recovery_latency_ms") == 0
    leases = api.get("/v1/leases")
    assert leases["leases"] and all(lease["expires_at"] >= leases["now"] for lease in leases["leases"])
    assert api.get("/healthz")["status"] == "ok"
    assert metric(api.metrics(), "oris_runtime_jobs_total", outcome="succeeded") > 300


def test_backlog_queue_rises_steadily_and_nothing_is_claimed(api: Api) -> None:
    api.scenario("backlog")
    api.advance(30)  # let jobs already claimed finish their stages
    succeeded = metric(api.metrics(), "oris_runtime_jobs_total", outcome="succeeded")
    depths = []
    for _ in range(5):
        api.advance(60)
        depths.append(metric(api.metrics(), "oris_runtime_queue_depth"))
    assert all(later - earlier >= 10 for earlier, later in zip(depths, depths[1:])), depths
    assert depths[-1] >= 100
    assert metric(api.metrics(), "oris_runtime_jobs_total", outcome="succeeded") == succeeded
    assert api.get("/v1/jobs?state=running")["total"] == 0
    assert api.get("/v1/leases")["leases"] == []


@pytest.mark.parametrize(
    ("scenario", "prefix", "check"),
    [("provider-outage", "Provider", "provider"), ("storage-outage", "Storage", "storage")],
)
def test_outage_fills_the_dlq_with_its_error_classes(api: Api, scenario: str, prefix: str, check: str) -> None:
    before = api.get("/v1/dlq?limit=1")["total"]
    api.scenario(scenario)
    api.advance(300)
    dlq = api.get("/v1/dlq?limit=500")
    grown = dlq["total"] - before
    assert grown >= 30, dlq["error_classes"]
    new = dlq["items"][:grown]
    matching = [item for item in new if item["error_class"].startswith(prefix)]
    assert len(matching) >= 0.9 * grown, Counter(item["error_class"] for item in new)
    assert next(iter(dlq["error_classes"])).startswith(prefix)
    # Outage errors are retried: they reach the DLQ only after the last attempt.
    assert all(item["attempts"] == 3 for item in matching)
    assert metric(api.metrics(), "oris_runtime_terminal_error_rate") > 0.1
    assert api.get("/healthz")["checks"][check] == "failing"


def test_stale_leases_hold_expired_leases_on_stalled_workers(api: Api) -> None:
    switched_at = api.get("/sim/state")["now"]
    api.scenario("stale-leases")
    api.advance(300)
    now = api.get("/sim/state")["now"]
    workers = {w["id"]: w for w in api.get("/v1/workers")["workers"]}
    stalled = {wid for wid, w in workers.items() if w["state"] == "stalled"}
    assert len(stalled) == 6  # 75% of 8
    for wid in stalled:
        assert workers[wid]["last_heartbeat_at"] <= switched_at
        assert age_s(now, workers[wid]["last_heartbeat_at"]) >= 300
    for wid in set(workers) - stalled:
        assert age_s(now, workers[wid]["last_heartbeat_at"]) <= 5

    expired = [lease for lease in api.get("/v1/leases")["leases"] if lease["expires_at"] < now]
    assert {lease["worker_id"] for lease in expired} == stalled  # each stalled worker hangs on to one job
    samples = api.metrics()
    assert metric(samples, "oris_runtime_leases_expired") == len(expired) == 6
    oldest = max(age_s(now, lease["expires_at"]) for lease in expired)
    assert metric(samples, "oris_runtime_recovery_latency_ms") == pytest.approx(oldest * 1000)
    assert oldest >= 200
    assert metric(samples, "oris_runtime_workers", state="stalled") == 6

    # Back to healthy: the stalled workers resume and renew what they hold.
    api.scenario("healthy")
    api.advance(10)
    samples = api.metrics()
    assert metric(samples, "oris_runtime_leases_expired") == 0
    assert metric(samples, "oris_runtime_workers", state="stalled") == 0
    assert metric(samples, "oris_runtime_recovery_latency_ms") == 0


def test_backpressure_counts_tenant_limit_refusals(api: Api) -> None:
    def tenant_limit() -> float:
        return metric(api.metrics(), "oris_runtime_backpressure_total", reason="tenant_limit")

    assert tenant_limit() == 0
    api.scenario("backpressure")
    seen = [tenant_limit()]
    for _ in range(4):
        api.advance(75)
        seen.append(tenant_limit())
        running = api.get("/v1/jobs?state=running&limit=500")["jobs"]
        assert sum(1 for job in running if job["tenant"] == "t-globex") <= 2  # the noisy tenant's limit
    assert all(later > earlier for earlier, later in zip(seen, seen[1:])), seen
    assert api.get("/healthz")["checks"]["queue"] == "tenant limit"


def test_error_spike_dead_letters_invalid_input(api: Api) -> None:
    api.scenario("error-spike")
    api.advance(300)
    samples = api.metrics()
    assert metric(samples, "oris_runtime_terminal_error_rate") > 0.1
    dlq = api.get("/v1/dlq?limit=20")
    assert dlq["error_classes"].get("InvalidInput", 0) >= 20
    assert next(iter(dlq["error_classes"])) == "InvalidInput"
    assert sum(1 for item in dlq["items"] if item["error_class"] == "InvalidInput") >= 15


# -- determinism and counters ----------------------------------------------------------------


def drive(api: Api) -> dict[str, bytes]:
    for name, seconds in (("provider-outage", 150), ("stale-leases", 90), ("backpressure", 120), ("error-spike", 120)):
        api.scenario(name)
        api.advance(seconds)
    return {
        "metrics": api.metrics_text().encode(),
        "dlq": relative_body(api.raw("/v1/dlq?limit=500").content),
        "jobs": relative_body(api.raw("/v1/jobs?limit=500").content),
        "workers": relative_body(api.raw("/v1/workers").content),
        "leases": relative_body(api.raw("/v1/leases").content),
    }


def test_same_seed_same_bytes_other_seed_other_bytes(make_api: Callable[..., Api]) -> None:
    first, second, other = (drive(make_api(seed=seed)) for seed in (11, 11, 12))
    assert first == second
    assert json.loads(first["dlq"])["total"] > 0
    assert first["metrics"] != other["metrics"]
    assert first["dlq"] != other["dlq"]


def test_state_depends_on_simulated_time_not_on_how_it_was_advanced(make_api: Callable[..., Api]) -> None:
    whole, pieces = make_api(seed=5), make_api(seed=5)
    for api in (whole, pieces):
        api.scenario("storage-outage")
    whole.advance(300)
    for _ in range(3):
        pieces.advance(100)
    whole.advance(1.0)
    for _ in range(10):
        pieces.advance(0.1)
    assert whole.get("/sim/state")["sim_time_s"] == pieces.get("/sim/state")["sim_time_s"] == 421.0
    assert whole.metrics_text() == pieces.metrics_text()
    assert relative_body(whole.raw("/v1/dlq?limit=500").content) == relative_body(pieces.raw("/v1/dlq?limit=500").content)


def test_counters_never_decrease(api: Api) -> None:
    previous = counter_samples(api.metrics())
    previous_dlq = metric(api.metrics(), "oris_runtime_dlq_size")
    previous_t = api.get("/sim/state")["sim_time_s"]
    increased: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    for name in (*SCENARIOS, *reversed(SCENARIOS)):
        api.scenario(name)
        assert api.advance(45)["sim_time_s"] == previous_t + 45
        previous_t += 45
        samples = api.metrics()
        current = counter_samples(samples)
        assert set(current) == set(previous)
        for key, value in current.items():
            assert value >= previous[key], (name, key, previous[key], value)
            if value > previous[key]:
                increased.add(key)
        dlq = metric(samples, "oris_runtime_dlq_size")
        assert dlq >= previous_dlq
        previous, previous_dlq = current, dlq
    assert len(increased) >= 8  # the cycle exercised most counters, so the check had teeth


# -- dead-letter paging ----------------------------------------------------------------------


def test_dlq_pages_cover_everything_once_newest_first(make_api: Callable[..., Api]) -> None:
    api = make_api(dlq_preload=25)
    api.scenario("storage-outage")
    api.advance(240)
    total = api.get("/v1/dlq?limit=1")["total"]
    assert total > 60
    items: list[dict[str, Any]] = []
    for offset in range(0, total, 7):
        page = api.get(f"/v1/dlq?limit=7&offset={offset}")
        assert (page["total"], page["offset"], page["limit"]) == (total, offset, 7)
        assert len(page["items"]) == min(7, total - offset)
        items += page["items"]
    ids = [item["id"] for item in items]
    assert ids == [f"dlq-{n:07d}" for n in range(total, 0, -1)]  # newest first, no gaps, no repeats
    times = [item["last_failed_at"] for item in items]
    assert times == sorted(times, reverse=True)
    # The 25 preloaded entries are the oldest; everything newer came from the simulation.
    assert all(item["job_id"].startswith("job-p") for item in items[-25:])
    assert not any(item["job_id"].startswith("job-p") for item in items[:-25])
    newest = api.get(f"/v1/jobs/{items[0]['job_id']}")["job"]
    assert newest["state"] == "dead_lettered"
    assert newest["last_error"] == f"{items[0]['error_class']}: {items[0]['message']}"

    past_end = api.get(f"/v1/dlq?limit=50&offset={total}")
    assert past_end["items"] == [] and past_end["total"] == total
    assert api.get("/v1/dlq?limit=50&offset=1000000000")["items"] == []


def test_a_million_preloaded_dead_letters(make_api: Callable[..., Api]) -> None:
    api = make_api(dlq_preload=1_000_000, warmup_s=0, seed=3)
    first = api.get("/v1/dlq?limit=500")
    assert first["total"] == 1_000_000
    assert sum(first["error_classes"].values()) == 1_000_000
    assert len(first["items"]) == 500 and first["items"][0]["id"] == "dlq-1000000"
    samples = api.metrics()
    assert metric(samples, "oris_runtime_dlq_size") == 1_000_000
    assert sum(v for _, v in samples["oris_runtime_dlq_entries"]) == 1_000_000

    middle = api.get("/v1/dlq?limit=50&offset=500000")
    assert [item["id"] for item in middle["items"]] == [f"dlq-{n:07d}" for n in range(500_000, 499_950, -1)]
    assert all(item["error_class"] in first["error_classes"] for item in middle["items"])
    assert middle["items"][0]["last_failed_at"] < first["items"][-1]["last_failed_at"]
    assert api.get("/v1/dlq?limit=50&offset=500000")["items"] == middle["items"]  # computed, but stable

    tail = api.get("/v1/dlq?limit=50&offset=999990")
    assert [item["id"] for item in tail["items"]] == [f"dlq-{n:07d}" for n in range(10, 0, -1)]
    times = [item["last_failed_at"] for item in first["items"] + middle["items"] + tail["items"]]
    assert times == sorted(times, reverse=True) and times[0] <= first["now"]


# -- bad requests ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "mentions"),
    [
        ("GET", "/v1/jobs?limit=0", None, ["limit", "0"]),
        ("GET", "/v1/jobs?limit=abc", None, ["limit", "abc"]),
        ("GET", "/v1/jobs?limit=501", None, ["limit", "501"]),
        ("GET", "/v1/jobs?state=bogus", None, ["bogus", *JOB_STATES]),
        ("GET", "/v1/dlq?limit=0", None, ["limit"]),
        ("GET", "/v1/dlq?limit=abc", None, ["limit"]),
        ("GET", "/v1/dlq?offset=-1", None, ["offset"]),
        ("GET", "/v1/audit/logs?limit=0", None, ["limit"]),
        ("POST", "/sim/scenario", {"scenario": "meteor-strike"}, ["meteor-strike", *SCENARIOS]),
        ("POST", "/sim/scenario", b"not json", ["JSON"]),
        ("POST", "/sim/advance", {"seconds": "abc"}, ["seconds", "number"]),
        ("POST", "/sim/advance", {"seconds": True}, ["seconds", "number"]),
        ("POST", "/sim/advance", {}, ["seconds"]),
        ("POST", "/sim/advance", {"seconds": -1}, ["seconds"]),
        ("POST", "/sim/advance", {"seconds": 1e9}, ["seconds"]),
        ("POST", "/sim/advance", [30], ["object"]),
    ],
)
def test_bad_parameters_are_400_with_a_message(frozen: Api, method: str, path: str, body: Any, mentions: list[str]) -> None:
    state = frozen.get("/sim/state")
    kwargs = {"content": body} if isinstance(body, bytes) else {} if body is None else {"json": body}
    message = frozen.error(method, path, 400, **kwargs)
    for word in mentions:
        assert word in message, message
    assert frozen.get("/sim/state") == state  # a rejected request changes nothing


@pytest.mark.parametrize("path", ["/nope", "/v1", "/v1/jobs/", "/metrics/extra", "/v1/jobs/job-000001/history"])
def test_unknown_path_is_404(frozen: Api, path: str) -> None:
    assert path in frozen.error("GET", path, 404)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/healthz"),
        ("POST", "/metrics"),
        ("POST", "/v1/jobs"),
        ("GET", "/sim/advance"),
        ("GET", "/sim/scenario"),
        ("PUT", "/v1/workers"),
        ("DELETE", "/v1/dlq"),
    ],
)
def test_wrong_method_is_405_naming_the_allowed_ones(frozen: Api, method: str, path: str) -> None:
    message = frozen.error(method, path, 405, **({"json": {}} if method in ("POST", "PUT") else {}))
    assert method in message and path in message
    allowed = frozen.client.request(method, path).headers["allow"]
    assert allowed == ("POST" if path.startswith("/sim/") and path != "/sim/state" else "GET")


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes; a timeout means it kept the line open."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    ("length", "body", "status"),
    [
        (None, b'{"seconds": 1}' + b" " * (70 * 1024), 413),  # over the 64 KiB limit
        ("abc", b'{"seconds": 1}', 400),
        ("-1", b'{"seconds": 1}', 400),  # read(-1) would wait for the client to hang up
    ],
)
def test_unreadable_body_is_refused_and_the_connection_closed(frozen: Api, length: str | None, body: bytes, status: int) -> None:
    """The body is left unread, so the connection must close: otherwise the body's bytes
    would be parsed as the next request. A bad length is the client's error, not a 500."""
    state = frozen.get("/sim/state")
    host, port = frozen.server.url.removeprefix("http://").split(":")
    header = f"POST /sim/advance HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {length or len(body)}\r\n\r\n"
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(header.encode() + body + b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        reply = read_until_closed(sock)
    head, _, rest = reply.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status} ".encode()), reply[:200]
    assert b"\r\nConnection: close" in head
    assert "error" in json.loads(rest)  # one JSON answer and nothing after it
    assert frozen.get("/sim/state") == state


# -- shutdown --------------------------------------------------------------------------------


def test_stop_refuses_new_connections_and_drops_kept_alive_ones() -> None:
    server = new_server(warmup_s=0)
    host, port = server.url.removeprefix("http://").split(":")
    raw = http.client.HTTPConnection(host, int(port), timeout=5)
    client = httpx.Client(base_url=server.url, timeout=5)
    try:
        raw.request("GET", "/healthz")
        assert raw.getresponse().read()
        local = raw.sock.getsockname()
        raw.request("GET", "/healthz")
        second = raw.getresponse()
        assert second.status == 200 and second.read()
        assert raw.sock.getsockname() == local  # the same kept-alive connection answered twice
        assert client.get("/healthz").status_code == 200
    finally:
        server.stop()
    try:
        # The kept-alive connection must be closed by the server, not answered (and not hang).
        with pytest.raises(ConnectionError):
            raw.request("GET", "/healthz")
            raw.getresponse()
        with pytest.raises(httpx.TransportError):
            client.get("/healthz")
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((host, int(port)), timeout=5).close()
    finally:
        raw.close()
        client.close()
