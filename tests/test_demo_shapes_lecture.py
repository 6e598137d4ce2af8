"""The demo backend speaking the lecture pipeline's API (`opsconsole sim --profile
lecture-pipeline`): every route over real HTTP, page paging and filters on the dead-letter
queue, replays by job id reaching the ledger, the fault scenarios on its own metrics, and
every curl in the profile's runbooks answered by it."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import httpx
import pytest

from console.config import load_config, profile_config_path
from console.demo.server import DemoServer
from console.runbooks import load_runbooks
from console.sources.metrics_scrape import parse_exposition
from tests.profile_e2e import profile_backend

STAGES = ["ingest", "transcribe", "generate", "export"]


@pytest.fixture
def lecture() -> Iterator[DemoServer]:
    with profile_backend("lecture-pipeline", dlq_preload=120) as server:
        yield server


def get(server: DemoServer, path: str, status: int = 200):
    reply = httpx.get(server.url + path, timeout=5)
    assert reply.status_code == status, reply.text
    return reply.json() if "json" in reply.headers["content-type"] else reply.text


def samples(server: DemoServer) -> dict[str, dict[str, float]]:
    """sample name → {the one label's value (or ""): value}."""
    parsed = parse_exposition(get(server, "/metrics"))
    return {name: {next(iter(labels.values()), ""): value for labels, value in rows} for name, rows in parsed.items()}


def test_health_jobs_and_workers_in_its_own_words(lecture):
    health = get(lecture, "/health")
    assert health["status"] == "ok" and health["components"] == {"queue": "ok", "provider": "ok", "storage": "ok"}
    assert health["intake"] == "running" and health["server_time"].endswith("Z")
    workers_health = get(lecture, "/workers/health")
    assert workers_health["components"] == {"claiming": "ok", "heartbeats": "ok"} and workers_health["alive"] == 8

    first, second = get(lecture, "/jobs?page=1&per_page=5"), get(lecture, "/jobs?page=2&per_page=5")
    assert len(first["data"]) == len(second["data"]) == 5 and first["total"] == second["total"] > 10
    ids = [job["job_id"] for job in first["data"] + second["data"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 10  # newest first, pages do not overlap
    job = first["data"][0]
    assert set(job) >= {"job_id", "status", "current_stage", "attempt_count", "assigned_worker", "updated_at", "failure_reason"}
    assert job["status"] in ("pending", "processing", "retry_scheduled", "completed", "dead_letter")
    completed = get(lecture, "/jobs?status=completed&per_page=200")["data"]
    assert completed and {j["status"] for j in completed} == {"completed"}
    assert get(lecture, "/jobs?status=queued", 400)["error"].startswith("status must be one of pending")

    detail = get(lecture, f"/jobs/{job['job_id']}")["data"]
    assert detail["job_id"] == job["job_id"] and detail["input"]["lecture_id"] == detail["lecture_id"] and detail["events"]
    assert get(lecture, "/jobs/job-999999", 404)["error"] == "no job 'job-999999'"

    workers = get(lecture, "/workers")["workers"]
    assert [w["worker_id"] for w in workers] == [f"w-{i:02d}" for i in range(1, 9)]
    assert isinstance(workers[0]["last_seen"], float) and "leases_held" not in workers[0]  # epoch seconds; no leases here
    # The runtime's routes are not this system's.
    for path in ("/v1/jobs", "/v1/leases", "/healthz", "/leases"):
        assert get(lecture, path, 404)["error"] == f"no such endpoint: {path}"


def test_dead_letters_page_by_number_filter_on_the_server_and_count_by_error(lecture):
    pages = [get(lecture, f"/jobs/dead-letter?page={n}&per_page=50") for n in (1, 2, 3, 4)]
    assert [len(p["entries"]) for p in pages] == [50, 50, 20, 0]
    assert all(p["total"] == 120 and p["pages"] == 3 for p in pages)
    ids = [e["job_id"] for p in pages for e in p["entries"]]
    assert len(set(ids)) == 120
    assert sum(pages[0]["by_error"].values()) == 120
    entry = pages[0]["entries"][0]
    assert set(entry) == {"job_id", "lecture_id", "failed_stage", "error", "attempts", "first_failed_at", "dead_lettered_at", "input"}
    assert entry["failed_stage"] in STAGES and set(entry["error"]) == {"type", "message"}

    timeouts = get(lecture, "/jobs/dead-letter?error=ProviderTimeout&per_page=200")
    assert timeouts["total"] == pages[0]["by_error"]["ProviderTimeout"] == len(timeouts["entries"])
    assert {e["error"]["type"] for e in timeouts["entries"]} == {"ProviderTimeout"} and timeouts["queue_size"] == 120
    found = get(lecture, f"/jobs/dead-letter?search={ids[7]}")
    assert [e["job_id"] for e in found["entries"]] == [ids[7]]
    assert get(lecture, "/jobs/dead-letter?per_page=201", 400)["error"] == "per_page must be between 1 and 200, got 201"
    assert get(lecture, "/jobs/dead-letter?page=0", 400)["error"].startswith("page must be between 1")


def test_replays_take_job_ids_leave_the_queue_and_reach_the_ledger(lecture):
    newest = [e["job_id"] for e in get(lecture, "/jobs/dead-letter?per_page=4")["entries"]]
    one = httpx.post(f"{lecture.url}/jobs/{newest[0]}/replay", headers={"Idempotency-Key": "k-1"}, timeout=5)
    assert one.status_code == 200 and one.json()["job_id"] == newest[0]
    again = httpx.post(f"{lecture.url}/jobs/{newest[0]}/replay", headers={"Idempotency-Key": "k-1"}, timeout=5)
    assert again.json() == one.json()  # the same key: the first answer, applied once
    batch = httpx.post(f"{lecture.url}/jobs/dead-letter/replay", json={"job_ids": [*newest[1:3], newest[0], "job-nope"]}, timeout=5)
    assert batch.json() == {"replayed": newest[1:3], "not_found": [newest[0], "job-nope"]}
    assert httpx.post(f"{lecture.url}/jobs/dead-letter/replay", json={"job_ids": "all"}, timeout=5).status_code == 400
    left = get(lecture, "/jobs/dead-letter?per_page=200")
    assert left["total"] == 117 and newest[3] in [e["job_id"] for e in left["entries"]]
    assert not set(newest[:3]) & {e["job_id"] for e in left["entries"]}

    # A job that is not dead-lettered is requeued as it is; a finished one is refused.
    completed = get(lecture, "/jobs?status=completed&per_page=1")["data"][0]["job_id"]
    assert httpx.post(f"{lecture.url}/jobs/{completed}/replay", timeout=5).status_code == 409

    assert httpx.post(f"{lecture.url}/admin/intake/pause", timeout=5).json() == {"intake": "paused"}
    assert get(lecture, "/health")["intake"] == "paused" and samples(lecture)["lecture_intake_paused"][""] == 1
    assert httpx.post(f"{lecture.url}/admin/intake/resume", timeout=5).json() == {"intake": "running"}
    limit = httpx.put(f"{lecture.url}/admin/stages/generate/concurrency", json={"max_concurrent": 3}, timeout=5)
    assert limit.json() == {"stage": "generate", "max_concurrent": 3} and lecture.sim.concurrency_limit == 3
    assert httpx.put(f"{lecture.url}/admin/stages/generate/concurrency", json={"max_concurrent": "3"}, timeout=5).status_code == 400
    submitted = httpx.post(f"{lecture.url}/jobs", json={"tenant": "t-synthetic"}, timeout=5).json()
    assert get(lecture, f"/jobs/{submitted['job_id']}")["data"]["status"] == "pending"

    assert [(m["method"], m["path"], m["status"], m["applied"]) for m in lecture.mutations] == [
        ("POST", f"/jobs/{newest[0]}/replay", 200, True),
        ("POST", f"/jobs/{newest[0]}/replay", 200, False),
        ("POST", "/jobs/dead-letter/replay", 200, True),
        ("POST", "/jobs/dead-letter/replay", 400, False),
        ("POST", f"/jobs/{completed}/replay", 409, False),
        ("POST", "/admin/intake/pause", 200, True),
        ("POST", "/admin/intake/resume", 200, True),
        ("PUT", "/admin/stages/generate/concurrency", 200, True),
        ("PUT", "/admin/stages/generate/concurrency", 400, False),
        ("POST", "/jobs", 200, True),
    ]
    assert lecture.mutations[2]["body"] == '{"job_ids":["%s","%s","%s","job-nope"]}' % (*newest[1:3], newest[0])


@pytest.mark.parametrize(
    ("scenario", "check"),
    [
        ("healthy", lambda m, h: min(m["lecture_stage_success_ratio"].values()) > 0.95 and m["lecture_provider_latency_p95_seconds"][""] < 10),
        ("backlog", lambda m, h: m["lecture_queue_depth"][""] > 500 and "lecture_stage_success_ratio" not in m and h["components"]["queue"] == "backlog"),
        ("provider-outage", lambda m, h: m["lecture_stage_success_ratio"]["generate"] < 0.3 and m["lecture_provider_latency_p95_seconds"][""] == 30
         and sum(m["lecture_provider_errors_total"].values()) > 300 and h["components"]["provider"] == "failing"),
        ("storage-outage", lambda m, h: m["lecture_stage_success_ratio"]["export"] < 0.3 and m["lecture_storage_errors_total"]["write"] > 300
         and m["lecture_storage_errors_total"]["read"] > 100 and h["components"]["storage"] == "failing"),
        ("error-spike", lambda m, h: m["lecture_stage_success_ratio"]["ingest"] < 0.8 and m["lecture_stage_success_ratio"]["generate"] > 0.9
         and m["lecture_dead_letter_size"][""] > 100),
    ],
)
def test_each_scenario_shows_on_its_own_metrics(scenario, check):
    with profile_backend("lecture-pipeline") as server:
        server.sim.set_scenario(scenario)
        server.sim.advance(900)
        metrics = samples(server)
        assert check(metrics, get(server, "/health")), metrics


def test_every_curl_in_the_profiles_runbooks_is_answered_by_the_demo(lecture):
    """The commands as written, run by bash with curl and jq; curl fails on an HTTP error."""
    if not (shutil.which("curl") and shutil.which("jq")):
        pytest.fail("curl and jq are needed to run the runbooks' commands")
    config = load_config(profile_config_path("lecture-pipeline"))
    commands = [c for runbook in load_runbooks(config.runbooks.dirs) for step in runbook.steps() for c in step.commands if c.startswith("curl ")]
    assert len(commands) >= 12
    lecture.sim.set_scenario("storage-outage")
    lecture.sim.advance(300)  # storage dead letters: StorageWriteError for the replay pipeline, a read failure for $JOB
    job = get(lecture, "/jobs/dead-letter?error=StorageReadError&search=job-0&per_page=1")["entries"][0]["job_id"]
    env = {**os.environ, "API": lecture.url, "JOB": job}
    for command in commands:
        script = "set -o pipefail\ncurl() { command curl --fail-with-body \"$@\"; }\n" + command
        done = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=20)
        assert done.returncode == 0 and done.stdout.strip(), f"{command}\n{done.stdout}\n{done.stderr}"
