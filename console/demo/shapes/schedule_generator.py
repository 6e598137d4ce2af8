"""The schedule generator's API (seed 002): a NestJS backend, a PDF worker pool and an
optimizer, each with its own /health, in front of a BullMQ queue in Redis.

The simulation's jobs become BullMQ jobs (numeric string ids, epoch-millisecond times,
`attemptsMade`, `failedReason`), its workers the pdf-worker containers, its dead letters
the queue's failed set. The containers' CPU and memory, the HTTP error ratio and p95 live
in the shape's state and follow the scenario: the optimizer times out in provider-outage,
MinIO fails in storage-outage, a pdf-worker leaks memory while workers hang (stale-leases),
a traffic spike saturates CPU (backpressure).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from console.demo import operations
from console.demo.metrics_text import metric_family as family
from console.demo.routing import HttpError, Reply, Request, Route, mutation
from console.demo.scenarios import STAGES
from console.demo.shapes import batches
from console.demo.shapes.stepped_state import SteppedState, caught_up
from console.demo.sim import SimJob, Simulation

QUEUE = "pdf-processing"
JOB_NAME = "generate-schedule"
STEPS = dict(zip(STAGES, ("extract", "parse", "optimize", "render")))
BULL_STATES = {"queued": "waiting", "running": "active", "retrying": "delayed", "succeeded": "completed", "dead_lettered": "failed"}
CONTAINERS = ("backend", "pdf-worker", "optimizer", "redis", "postgres")
# The simulation's failures in this system's words: (error name, failedReason = its message).
ERRORS = {
    "ProviderUnavailable": ("OptimizerUnavailable", "optimizer answered 503 Service Unavailable"),
    "ProviderRateLimited": ("OptimizerBusy", "optimizer answered 429: solver pool exhausted"),
    "ProviderTimeout": ("OptimizerTimeout", "optimizer did not answer within 30000 ms"),
    "StorageWriteError": ("StorageWriteError", "PUT schedules/ to MinIO failed: 503 SlowDown"),
    "StorageReadError": ("StorageReadError", "GET uploads/ from MinIO failed: 500 InternalError"),
    "InvalidInput": ("InvalidPdf", "no timetable table found in the uploaded PDF"),
}
LEAK_PER_S = 0.08  # % of the pdf-worker's memory limit lost per second while workers hang
BASE_MEMORY = {"backend": 46.0, "pdf-worker": 52.0, "optimizer": 38.0, "redis": 21.0, "postgres": 41.0}
SMOOTHING = 0.1  # per second: gauges reach their target over ~10 s (real ones average 5 min; shorter keeps the demo lively)


class ScheduleGeneratorState(SteppedState):
    """Container resources and HTTP figures, moving towards what the scenario implies."""

    def __init__(self, sim: Simulation):
        super().__init__(sim)
        self.scenario = sim.scenario.name
        self.error_ratio = 0.003
        self.p95_s = 0.6
        self.cpu = self._cpu_targets(sim)
        self.memory = dict(BASE_MEMORY)

    def step(self, sim: Simulation) -> None:
        if sim.scenario.name != self.scenario:
            # Leaving an incident scenario stands for someone restarting the containers.
            self.scenario = sim.scenario.name
            self.memory = dict(BASE_MEMORY)
        jitter = 1 + (self.rng.random() - 0.5) * 0.1
        self.error_ratio += (self._error_target(sim) * jitter - self.error_ratio) * SMOOTHING
        self.p95_s += (self._p95_target(sim) * jitter - self.p95_s) * SMOOTHING
        for name, target in self._cpu_targets(sim).items():
            self.cpu[name] += (min(99.0, target * jitter) - self.cpu[name]) * SMOOTHING
        if sim.scenario.stalled_fraction:
            self.memory["pdf-worker"] = min(97.0, self.memory["pdf-worker"] + LEAK_PER_S)
        self.memory["redis"] = BASE_MEMORY["redis"] + min(60.0, len(sim.queue) * 0.02)

    @staticmethod
    def _error_target(sim: Simulation) -> float:
        target = 0.003 + 0.5 * sim.terminal_error_rate()
        if sim.scenario.health.get("storage"):
            target += 0.08  # uploads and downloads answer 502
        if sim.scenario.health.get("provider"):
            target += 0.03  # generate requests time out at the gateway
        return target

    @staticmethod
    def _p95_target(sim: Simulation) -> float:
        target = 0.6 + min(4.0, len(sim.queue) / 200)  # status polls wait on a long queue
        if sim.scenario.health.get("provider"):
            target += 11.0  # requests wait for the optimizer's 30 s timeout
        return target

    @staticmethod
    def _cpu_targets(sim: Simulation) -> dict[str, float]:
        busy = sum(1 for w in sim.workers if w.job is not None) / max(1, len(sim.workers))
        spike = 1.0 if sim.scenario.arrival_load > 1 else 0.0
        return {
            "backend": 18 + 30 * busy + 45 * spike,
            "pdf-worker": 20 + 55 * busy + 20 * spike,
            "optimizer": 10 + 45 * busy,
            "redis": 4 + 6 * busy,
            "postgres": 10 + 15 * busy + 10 * spike,
        }


def _state(req: Request) -> ScheduleGeneratorState:
    return req.state


# -- ids and records in BullMQ's words --------------------------------------------------------


def bull_id(sim_job_id: str) -> str:
    """job-000123 → "123" (BullMQ ids are counters); a preloaded job-p0001234 → "p0001234"."""
    digits = sim_job_id.removeprefix("job-")
    return str(int(digits)) if digits.isdigit() else digits


def sim_job_id(job_id: str) -> str:
    return f"job-{int(job_id):06d}" if job_id.isdigit() else f"job-{job_id}"


def worker_name(sim_worker_id: str) -> str:
    return f"pdf-worker-{int(sim_worker_id.removeprefix('w-'))}"


def job_record(req: Request, job: SimJob) -> dict[str, Any]:
    state = _state(req)
    finished = job.state in ("succeeded", "dead_lettered")
    started = job.state != "queued" or job.attempts > 0
    _, reason = ERRORS.get((job.last_error or "").split(":")[0], ("", ""))
    return {
        "id": bull_id(job.id),
        "name": JOB_NAME,
        "queue": QUEUE,
        "state": BULL_STATES[job.state],
        "data": {"uploadId": f"upl-{job.number:07d}", "tenant": job.tenant},
        "progress": {"step": STEPS[STAGES[job.stage]]},
        "attemptsMade": job.attempts,
        "processedBy": worker_name(job.worker) if job.worker else None,
        "timestamp": state.ms(job.created),
        "processedOn": state.ms(job.updated) if started else None,
        "finishedOn": state.ms(job.updated) if finished else None,
        "failedReason": reason or None,  # the error's message, as BullMQ keeps it
    }


def _ms_of(iso_time: str) -> int:
    return round(datetime.fromisoformat(iso_time.replace("Z", "+00:00")).timestamp() * 1000)


def failed_record(entry: dict[str, Any]) -> dict[str, Any]:
    name, reason = ERRORS.get(entry["error_class"], (entry["error_class"], entry["message"]))
    return {
        "id": bull_id(entry["job_id"]),
        "name": JOB_NAME,
        "errorName": name,
        "failedReason": reason,
        "attemptsMade": entry["attempts"],
        "processedOn": _ms_of(entry["first_failed_at"]),
        "finishedOn": _ms_of(entry["last_failed_at"]),
        "data": {"uploadId": entry["payload"]["lecture_id"].replace("lec-", "upl-"), "tenant": entry["payload"]["tenant"]},
    }


# -- health: three services -------------------------------------------------------------------


def _health(status: str, ok: bool, body: dict[str, Any]) -> Reply:
    # Like NestJS terminus and most FastAPI apps: 503 when the service is not healthy.
    return (200 if ok else 503), {"status": status, **body}


def backend_health(req: Request) -> Reply:
    storage = "down" if req.sim.scenario.health.get("storage") else "up"
    checks = {"database": "up", "redis": "up", "storage": storage}
    ok = storage == "up"
    return _health("ok" if ok else "error", ok, {"service": "backend", "checks": checks})


def pdf_worker_health(req: Request) -> Reply:
    sim, state = req.sim, _state(req)
    queue = {"not claiming": "not consuming", "stalled": "stalled jobs"}.get(sim.scenario.health.get("workers", ""), "ok")
    memory = "high" if state.memory["pdf-worker"] >= 80 else "ok"
    checks = {"redis": "ok", "queue": queue, "memory": memory}
    ok = all(v == "ok" for v in checks.values())
    workers = {"total": len(sim.workers), "busy": sum(1 for w in sim.workers if w.job is not None)}
    return _health("healthy" if ok else "degraded", ok, {"service": "pdf-worker", "checks": checks, "workers": workers})


def optimizer_health(req: Request) -> Reply:
    solver = "timeouts" if req.sim.scenario.health.get("provider") else "ok"
    ok = solver == "ok"
    return _health("ok" if ok else "degraded", ok, {"service": "optimizer", "checks": {"solver": solver}, "solver": {"engine": "or-tools", "version": "9.10"}})


# -- the queue ----------------------------------------------------------------------------------


def job_counts(req: Request) -> Reply:
    sim = req.sim
    states = [job.state for job in sim.active.values()]
    return 200, {
        "waiting": len(sim.queue),
        "active": states.count("running"),
        "completed": sim.counters[("jobs", "succeeded")],
        "failed": len(sim.dead_letters),
        "delayed": states.count("retrying"),
        "paused": 0,
    }


def list_jobs(req: Request) -> Reply:
    limit = req.int_param("limit", 50, 1, 500)
    wanted = req.query.get("state", [""])[-1]
    sim_states = {v: k for k, v in BULL_STATES.items()}
    if wanted and wanted not in sim_states:
        raise HttpError(400, f"state must be one of {', '.join(sim_states)}, got {wanted!r}")
    jobs = req.sim.jobs(sim_states.get(wanted))
    return 200, [job_record(req, job) for job in jobs[:limit]]  # BullMQ's getJobs: a bare list


def get_job(req: Request) -> Reply:
    job = req.sim.find_job(sim_job_id(req.match["id"]))
    if job is None:
        raise HttpError(404, f"Job {req.match['id']} not found")
    return 200, job_record(req, job)


def list_workers(req: Request) -> Reply:
    state = _state(req)
    return 200, [
        {
            "name": worker_name(w.id),
            "status": {"busy": "active", "draining": "closing"}.get(w.state, w.state),
            "lastHeartbeat": state.ms(w.last_heartbeat),
            "currentJobId": bull_id(w.job.id) if w.job else None,
            "activeJobs": 1 if w.job else 0,
            "processed": w.jobs_done,
        }
        for w in req.sim.workers
    ]


def failed_jobs(req: Request) -> Reply:
    """The failed set, newest first, read like BullMQ's getFailed(start, end): `start` and `count`."""
    start = req.int_param("start", 0, 0, 10**9)
    count = req.int_param("count", 50, 1, 200)
    queue = req.sim.dead_letters
    return 200, {"total": len(queue), "jobs": [failed_record(entry) for entry in queue.page(start, count)]}


def _letter_id(sim: Simulation, job_id: str) -> str:
    """The dead letter holding BullMQ job `job_id` (found by the queue's own search)."""
    target = sim_job_id(job_id) if re.fullmatch(r"p?[0-9]{1,12}", job_id) else None
    if target is not None:
        _, matches = sim.dead_letters.filtered_page(0, 10, "", target)
        for entry in matches:
            if entry["job_id"] == target:
                return entry["id"]
    raise LookupError(f"Job {job_id} is not in the failed set")


def retry_job(sim: Simulation, job_id: str, actor: str) -> dict[str, Any]:
    operations.replay_dead_letter(sim, _letter_id(sim, job_id), actor)
    return {"id": job_id, "state": "waiting"}


def retry_jobs(sim: Simulation, job_ids: Any, actor: str) -> dict[str, Any]:
    return batches.each(job_ids, "jobIds", lambda one: retry_job(sim, one, actor))


# -- /metrics ---------------------------------------------------------------------------------


def metrics(req: Request) -> Reply:
    state = _state(req)
    lines: list[str] = []
    family(lines, "schedgen_http_error_ratio", "gauge", "Share of HTTP requests answered 5xx over the last 5 minutes.", [("", round(state.error_ratio, 5))])
    family(lines, "schedgen_http_p95_seconds", "gauge", "95th percentile of HTTP request duration over the last 5 minutes.", [("", round(state.p95_s, 3))])
    family(lines, "container_cpu_percent", "gauge", "CPU use of each container, % of its limit.", [(f'{{container="{c}"}}', round(state.cpu[c], 1)) for c in CONTAINERS])
    family(lines, "container_memory_percent", "gauge", "Memory use of each container, % of its limit.", [(f'{{container="{c}"}}', round(state.memory[c], 1)) for c in CONTAINERS])
    family(lines, "schedgen_jobs_completed_total", "counter", "Jobs completed.", [("", req.sim.counters[("jobs", "succeeded")])])
    return 200, "\n".join(lines) + "\n"


ROUTES: list[Route] = [
    ("GET", re.compile(r"/health"), caught_up(backend_health)),
    ("GET", re.compile(r"/pdf-worker/health"), caught_up(pdf_worker_health)),
    ("GET", re.compile(r"/optimizer/health"), caught_up(optimizer_health)),
    ("GET", re.compile(r"/metrics"), caught_up(metrics)),
    ("GET", re.compile(r"/api/jobs/metrics"), caught_up(job_counts)),
    ("GET", re.compile(r"/api/jobs"), caught_up(list_jobs)),
    ("GET", re.compile(r"/api/jobs/failed"), caught_up(failed_jobs)),
    ("GET", re.compile(r"/api/jobs/(?P<id>[^/]+)"), caught_up(get_job)),
    ("GET", re.compile(r"/api/workers"), caught_up(list_workers)),
    ("POST", re.compile(r"/api/jobs/failed/retry"), caught_up(mutation(retry_jobs, lambda r: r.json().get("jobIds")))),
    ("POST", re.compile(r"/api/jobs/(?P<id>[^/]+)/retry"), caught_up(mutation(retry_job, lambda r: r.match["id"]))),
]
