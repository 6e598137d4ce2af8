"""The execution runtime's API (seed 001): /healthz, /metrics and /v1/... with workers,
leases and a dead-letter queue. The console's default config speaks this shape."""

from __future__ import annotations

import re

from console.demo import operations
from console.demo.metrics_text import exposition
from console.demo.routing import HttpError, Reply, Request, Route, mutation

JOB_STATES = ("queued", "running", "retrying", "succeeded", "dead_lettered")


def healthz(req: Request) -> Reply:
    return 200, req.sim.health()


def metrics(req: Request) -> Reply:
    return 200, exposition(req.sim)


def list_jobs(req: Request) -> Reply:
    limit = req.int_param("limit", 20, 1, 500)
    state = req.query.get("state", [None])[-1] or None
    if state is not None and state not in JOB_STATES:
        raise HttpError(400, f"state must be one of {', '.join(JOB_STATES)}, got {state!r}")
    jobs = req.sim.jobs(state)
    return 200, {"now": req.sim.now, "total": len(jobs), "jobs": [req.sim.job_view(j) for j in jobs[:limit]]}


def get_job(req: Request) -> Reply:
    job = req.sim.find_job(req.match["job_id"])
    if job is None:
        raise HttpError(404, f"no job {req.match['job_id']!r}")
    return 200, {"now": req.sim.now, "job": req.sim.job_view(job, detail=True)}


def list_workers(req: Request) -> Reply:
    return 200, {"now": req.sim.now, "workers": [req.sim.worker_view(w) for w in req.sim.workers]}


def list_leases(req: Request) -> Reply:
    return 200, {"now": req.sim.now, "leases": [req.sim.lease_view(lease) for lease in req.sim.leases.values()]}


def list_dead_letters(req: Request) -> Reply:
    limit = req.int_param("limit", 50, 1, 500)
    offset = req.int_param("offset", 0, 0, 10**9)
    queue = req.sim.dead_letters
    # Filters are applied here, on the server, so a console never loads the whole queue.
    error_class = req.query.get("error_class", [""])[-1]
    text = req.query.get("q", [""])[-1]
    if error_class or text:
        total, items = queue.filtered_page(offset, limit, error_class, text)
    else:
        total, items = len(queue), queue.page(offset, limit)
    reply = {
        "now": req.sim.now,
        "total": total,
        "offset": offset,
        "limit": limit,
        "error_classes": queue.error_classes(),
        "items": items,
    }
    if error_class or text:
        reply["queue_total"] = len(queue)
    return 200, reply


def audit_logs(req: Request) -> Reply:
    limit = req.int_param("limit", 20, 1, 1000)
    newest = list(req.sim.audit)[::-1][:limit]
    return 200, {"now": req.sim.now, "logs": newest}


ROUTES: list[Route] = [
    ("GET", re.compile(r"/healthz"), healthz),
    ("GET", re.compile(r"/metrics"), metrics),
    ("GET", re.compile(r"/v1/jobs"), list_jobs),
    ("GET", re.compile(r"/v1/jobs/(?P<job_id>[^/]+)"), get_job),
    ("GET", re.compile(r"/v1/workers"), list_workers),
    ("GET", re.compile(r"/v1/leases"), list_leases),
    ("GET", re.compile(r"/v1/dlq"), list_dead_letters),
    ("GET", re.compile(r"/v1/audit/logs"), audit_logs),
    ("POST", re.compile(r"/v1/jobs/(?P<job_id>[^/]+)/replay"), mutation(operations.replay_job, lambda r: r.match["job_id"])),
    ("POST", re.compile(r"/v1/dlq/replay"), mutation(operations.replay_dead_letters, lambda r: r.json().get("ids"))),
    ("POST", re.compile(r"/v1/dlq/(?P<id>[^/]+)/replay"), mutation(operations.replay_dead_letter, lambda r: r.match["id"])),
    ("POST", re.compile(r"/v1/workers/(?P<id>[^/]+)/drain"), mutation(operations.drain_worker, lambda r: r.match["id"])),
    ("POST", re.compile(r"/v1/intake/pause"), mutation(operations.set_intake, True)),
    ("POST", re.compile(r"/v1/intake/resume"), mutation(operations.set_intake, False)),
    ("PUT", re.compile(r"/v1/limits/concurrency"), mutation(operations.set_concurrency_limit, lambda r: r.json().get("limit"))),
]
