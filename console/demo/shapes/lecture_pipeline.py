"""The lecture pipeline's API (seed 000): lectures go ingest → transcribe → generate (an
LLM provider) → export (object storage).

Its own routes and field names, unlike the runtime's: `/health` with components,
`/workers/health`, `/jobs` pages under `data`, dead letters named by their job and paged by
page number, replays by job id, `/admin/...` switches, and `lecture_*` metrics. No leases:
this system does not expose them.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from datetime import timedelta
from typing import Any

from console.demo import operations
from console.demo.dead_letters import payload_for
from console.demo.metrics_text import metric_family as family
from console.demo.routing import HttpError, Reply, Request, Route, mutation
from console.demo.scenarios import STAGES
from console.demo.sim import SimJob, SimWorker, Simulation

# The runtime's job states in this system's words.
STATUS = {"queued": "pending", "running": "processing", "retrying": "retry_scheduled", "succeeded": "completed", "dead_lettered": "dead_letter"}
SIM_STATE = {word: state for state, word in STATUS.items()}
PROVIDER_CODES = {"ProviderUnavailable": "503", "ProviderRateLimited": "429", "ProviderTimeout": "timeout"}
STORAGE_OPS = {"StorageReadError": "read", "StorageWriteError": "write"}
FAILED_STAGE = {"ProviderUnavailable": "generate", "ProviderRateLimited": "generate", "ProviderTimeout": "generate",
                "StorageReadError": "ingest", "StorageWriteError": "export", "InvalidInput": "ingest"}
PROVIDER_TIMEOUT_S = 30.0  # a provider call that times out took this long, however long the stage ran
MAX_PER_PAGE = 200


def _page_params(req: Request, default: int) -> tuple[int, int]:
    page = req.int_param("page", 1, 1, 10**7)
    per_page = req.int_param("per_page", default, 1, MAX_PER_PAGE)
    return page, per_page


# -- health -------------------------------------------------------------------------------


def health(req: Request) -> Reply:
    sim = req.sim
    checks = sim.health()["checks"]
    components = {name: checks[name] for name in ("queue", "provider", "storage")}
    status = "ok" if all(state == "ok" for state in components.values()) else "degraded"
    return 200, {
        "status": status,
        "server_time": sim.now,
        "components": components,
        "intake": "paused" if sim.intake_paused else "running",
        "generate_concurrency": sim.concurrency_limit,
    }


def workers_health(req: Request) -> Reply:
    sim = req.sim
    states = Counter(w.state for w in sim.workers)
    components = {
        "claiming": "ok" if sim.scenario.claiming else "stopped",
        "heartbeats": f"{states['stalled']} stalled" if states["stalled"] else "ok",
    }
    status = "ok" if all(state == "ok" for state in components.values()) else "degraded"
    return 200, {"status": status, "server_time": sim.now, "components": components, "alive": len(sim.workers) - states["stalled"], "busy": states["busy"]}


# -- jobs and workers ---------------------------------------------------------------------


def _job(sim: Simulation, job: SimJob, detail: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "job_id": job.id,
        "lecture_id": f"lec-{job.number:07d}",
        "tenant": job.tenant,
        "status": STATUS[job.state],
        "current_stage": STAGES[job.stage],
        "attempt_count": job.attempts,
        "assigned_worker": job.worker,
        "created_at": sim.at(job.created),
        "updated_at": sim.at(job.updated),
        "failure_reason": job.last_error,
    }
    if detail:
        view["input"] = payload_for(job.number, job.tenant)
        view["events"] = [{"at": sim.at(at), "event": event, "detail": text} for at, event, text in job.history]
    return view


def list_jobs(req: Request) -> Reply:
    page, per_page = _page_params(req, 20)
    status = req.query.get("status", [""])[-1]
    if status and status not in SIM_STATE:
        raise HttpError(400, f"status must be one of {', '.join(SIM_STATE)}, got {status!r}")
    jobs = req.sim.jobs(SIM_STATE.get(status))
    start = (page - 1) * per_page
    return 200, {
        "data": [_job(req.sim, job) for job in jobs[start : start + per_page]],
        "page": page,
        "per_page": per_page,
        "total": len(jobs),
        "server_time": req.sim.now,
    }


def get_job(req: Request) -> Reply:
    job = req.sim.find_job(req.match["job_id"])
    if job is None:
        raise HttpError(404, f"no job {req.match['job_id']!r}")
    return 200, {"data": _job(req.sim, job, detail=True), "server_time": req.sim.now}


def _epoch_s(sim: Simulation, t: float) -> float:
    return round((sim._epoch + timedelta(seconds=t)).timestamp(), 3)


def _worker(sim: Simulation, worker: SimWorker) -> dict[str, Any]:
    return {
        "worker_id": worker.id,
        "status": worker.state,
        "last_seen": _epoch_s(sim, worker.last_heartbeat),  # epoch seconds, as this API gives them
        "job_id": worker.job.id if worker.job else None,
        "started_at": sim.at(worker.started),
        "jobs_done": worker.jobs_done,
    }


def list_workers(req: Request) -> Reply:
    return 200, {"workers": [_worker(req.sim, w) for w in req.sim.workers], "server_time": req.sim.now}


# -- dead letters, named by their job -------------------------------------------------------


def _dead_letter(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "job_id": entry["job_id"],
        "lecture_id": entry["payload"]["lecture_id"],
        "failed_stage": FAILED_STAGE.get(entry["error_class"], "unknown"),
        "error": {"type": entry["error_class"], "message": entry["message"]},
        "attempts": entry["attempts"],
        "first_failed_at": entry["first_failed_at"],
        "dead_lettered_at": entry["last_failed_at"],
        "input": entry["payload"],
    }


def list_dead_letters(req: Request) -> Reply:
    page, per_page = _page_params(req, 50)
    error = req.query.get("error", [""])[-1]
    search = req.query.get("search", [""])[-1]
    queue = req.sim.dead_letters
    offset = (page - 1) * per_page
    if error or search:  # filtered on the server, so a console never loads the whole queue
        total, entries = queue.filtered_page(offset, per_page, error, search)
    else:
        total, entries = len(queue), queue.page(offset, per_page)
    return 200, {
        "entries": [_dead_letter(entry) for entry in entries],
        "total": total,
        "queue_size": len(queue),
        "by_error": queue.error_classes(),
        "page": page,
        "per_page": per_page,
        "pages": max(1, math.ceil(total / per_page)),
        "server_time": req.sim.now,
    }


def _letter_id(sim: Simulation, job_id: str) -> str | None:
    index = sim.dead_letters.index_of_job(job_id)
    return None if index is None else f"dlq-{index + 1:07d}"


def replay_job(sim: Simulation, job_id: str, actor: str) -> dict[str, Any]:
    """One job: out of the dead-letter queue when it is there, else requeued as it is."""
    letter = _letter_id(sim, job_id)
    if letter is None:
        return operations.replay_job(sim, job_id, actor)
    replayed = operations.replay_dead_letter(sim, letter, actor)
    return {"job_id": job_id, "status": "pending", "replayed_as": replayed["job_id"]}


def replay_dead_letters(sim: Simulation, job_ids: Any, actor: str) -> dict[str, Any]:
    if not isinstance(job_ids, list) or not all(isinstance(i, str) for i in job_ids):
        raise TypeError("job_ids must be a list of job ids")
    letters = {job_id: _letter_id(sim, job_id) for job_id in job_ids}
    by_letter = {letter: job_id for job_id, letter in letters.items() if letter}
    done = operations.replay_dead_letters(sim, list(by_letter), actor)
    return {
        "replayed": [by_letter[letter] for letter in done["replayed"]],
        "not_found": [job_id for job_id, letter in letters.items() if letter is None or letter in done["missing"]],
    }


def submit_job(sim: Simulation, tenant: Any, actor: str) -> dict[str, Any]:
    """A synthetic lecture put at the back of the queue: it runs through every stage like
    any other, so its status says whether the pipeline works end to end."""
    if not isinstance(tenant, str) or not tenant:
        raise TypeError("tenant must be a non-empty string")
    job = SimJob(sim._next_job, tenant, sim.t, updated=sim.t)
    sim._next_job += 1
    job.log(sim.t, "enqueued", f"submitted by {actor}")
    sim.active[job.id] = job
    sim.queue.append(job)
    sim.record(actor, "job.submit", job.id, "synthetic job submitted")
    return {"job_id": job.id, "lecture_id": f"lec-{job.number:07d}", "status": STATUS[job.state]}


def set_generate_concurrency(sim: Simulation, limit: Any, actor: str) -> dict[str, Any]:
    # The demo's workers carry a job through every stage, so a cap on concurrent generate
    # runs is a cap on busy workers: the same effect on the backlog and the provider.
    operations.set_concurrency_limit(sim, limit, actor)
    return {"stage": "generate", "max_concurrent": limit}


# -- /metrics -------------------------------------------------------------------------------


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def metrics(req: Request) -> Reply:
    sim = req.sim
    outcomes = list(sim.stage_outcomes)
    runs = Counter(stage for _, stage, _, _ in outcomes)
    ok = Counter(stage for _, stage, error, _ in outcomes if error is None)
    provider_s = [PROVIDER_TIMEOUT_S if error == "ProviderTimeout" else seconds for _, stage, error, seconds in outcomes if stage == "generate"]
    failures = {error: sim.counters[("failures", error)] for error in (*PROVIDER_CODES, *STORAGE_OPS)}
    lines: list[str] = []
    family(lines, "lecture_queue_depth", "gauge", "Lecture jobs waiting for a worker.", [("", len(sim.queue))])
    # A stage that ran nothing in the window has no ratio: absent, never a reassuring 1.
    family(lines, "lecture_stage_success_ratio", "gauge", "Share of stage runs that succeeded over the last 5 minutes.",
            [(f'{{stage="{stage}"}}', ok[stage] / runs[stage]) for stage in STAGES if runs[stage]])
    family(lines, "lecture_provider_errors_total", "counter", "Failed calls to the LLM provider by answer.",
            [(f'{{code="{code}"}}', failures[error]) for error, code in PROVIDER_CODES.items()])
    family(lines, "lecture_provider_latency_p95_seconds", "gauge", "95th percentile of provider call time over the last 5 minutes.",
            [("", _p95(provider_s))] if provider_s else [])
    family(lines, "lecture_storage_errors_total", "counter", "Failed object-storage operations.",
            [(f'{{op="{op}"}}', failures[error]) for error, op in STORAGE_OPS.items()])
    family(lines, "lecture_dead_letter_size", "gauge", "Jobs in the dead-letter queue.", [("", len(sim.dead_letters))])
    family(lines, "lecture_jobs_total", "counter", "Finished lecture jobs by outcome.",
            [(f'{{outcome="{STATUS[o]}"}}', sim.counters[("jobs", o)]) for o in ("succeeded", "dead_lettered")])
    family(lines, "lecture_intake_paused", "gauge", "1 while intake is paused.", [("", int(sim.intake_paused))])
    return 200, "\n".join(lines) + "\n"


JOB_ID = r"(?P<job_id>(?!dead-letter$)[^/]+)"

ROUTES: list[Route] = [
    ("GET", re.compile(r"/health"), health),
    ("GET", re.compile(r"/workers/health"), workers_health),
    ("GET", re.compile(r"/metrics"), metrics),
    ("GET", re.compile(r"/jobs"), list_jobs),
    ("GET", re.compile(r"/jobs/dead-letter"), list_dead_letters),
    ("GET", re.compile(rf"/jobs/{JOB_ID}"), get_job),
    ("GET", re.compile(r"/workers"), list_workers),
    ("POST", re.compile(r"/jobs"), mutation(submit_job, lambda r: r.json().get("tenant", "t-synthetic"))),
    ("POST", re.compile(r"/jobs/dead-letter/replay"), mutation(replay_dead_letters, lambda r: r.json().get("job_ids"))),
    ("POST", re.compile(rf"/jobs/{JOB_ID}/replay"), mutation(replay_job, lambda r: r.match["job_id"])),
    ("POST", re.compile(r"/admin/intake/pause"), mutation(operations.set_intake, True)),
    ("POST", re.compile(r"/admin/intake/resume"), mutation(operations.set_intake, False)),
    ("PUT", re.compile(r"/admin/stages/generate/concurrency"), mutation(set_generate_concurrency, lambda r: r.json().get("max_concurrent"))),
]
