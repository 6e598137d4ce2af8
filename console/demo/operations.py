"""What an operator can change in the demo backend, and the ledger of every change asked for.

Each operation is called with the simulation's lock held and returns the JSON reply, or
raises `LookupError` (404) / `ValueError` (409). The `MutationLedger` gives Idempotency-Key
semantics (the same key gets the same reply and is applied once) and keeps a record of
every mutation request received, applied or not, so tests can count what arrived.
"""

from __future__ import annotations

import hashlib
from collections import deque
from typing import Any

from console.demo.sim import SimJob, Simulation

MAX_BATCH = 1000
LEDGER_KEPT = 100_000


def _requeue(sim: Simulation, job: SimJob, why: str) -> None:
    now = sim.t
    job.state, job.worker, job.updated, job.stage, job.attempts = "queued", None, now, 0, 0
    job.log(now, "replayed", why)
    if job in sim.finished:
        sim.finished.remove(job)
    sim.active[job.id] = job
    sim.queue.append(job)


def replay_job(sim: Simulation, job_id: str, actor: str) -> dict[str, Any]:
    job = sim.find_job(job_id)
    if job is None:
        raise LookupError(f"no job {job_id!r}")
    if job.state in ("queued", "retrying"):
        raise ValueError(f"{job_id} is already waiting to run ({job.state})")
    if job.state == "succeeded":
        raise ValueError(f"{job_id} succeeded; nothing to replay")
    if job.state == "running":
        # A replay of a running job is for one stuck under a stale lease: take it back.
        lease = sim.leases.pop(job.id, None)
        for worker in sim.workers:
            if worker.job is job:
                worker.job = None
        if lease is None:
            raise ValueError(f"{job_id} is running under a live lease")
    _requeue(sim, job, f"by {actor}")
    sim.record(actor, "job.replay", job_id, "job requeued by an operator")
    return {"job_id": job_id, "state": job.state}


def replay_dead_letter(sim: Simulation, letter_id: str, actor: str) -> dict[str, Any]:
    index = sim.dead_letters.index_of(letter_id)
    if index is None:
        raise LookupError(f"no dead letter {letter_id!r} (or it was already replayed)")
    entry = sim.dead_letters.remove(index)
    job = sim.find_job(entry["job_id"])
    if job is not None and job.state == "dead_lettered":
        _requeue(sim, job, f"from {letter_id} by {actor}")
    else:  # a preloaded entry: its job is long gone, so a new one carries the payload
        job = SimJob(sim._next_job, entry["payload"].get("tenant", "t-acme"), sim.t, updated=sim.t)
        sim._next_job += 1
        job.log(sim.t, "replayed", f"from {letter_id} by {actor}")
        sim.active[job.id] = job
        sim.queue.append(job)
    sim.record(actor, "dlq.replay", letter_id, f"dead letter replayed as {job.id}")
    return {"id": letter_id, "job_id": job.id}


def replay_dead_letters(sim: Simulation, ids: Any, actor: str) -> dict[str, Any]:
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise TypeError("ids must be a list of dead-letter ids")
    if len(ids) > MAX_BATCH:
        raise TypeError(f"at most {MAX_BATCH} ids per request, got {len(ids)}")
    replayed, missing = [], []
    for letter_id in ids:
        try:
            replay_dead_letter(sim, letter_id, actor)
            replayed.append(letter_id)
        except LookupError:
            missing.append(letter_id)
    return {"replayed": replayed, "missing": missing}


def drain_worker(sim: Simulation, worker_id: str, actor: str) -> dict[str, Any]:
    worker = next((w for w in sim.workers if w.id == worker_id), None)
    if worker is None:
        raise LookupError(f"no worker {worker_id!r}")
    if worker.state == "draining":
        raise ValueError(f"{worker_id} is already draining")
    worker.state = "draining"  # finishes its current job, claims nothing new
    sim.record(actor, "worker.drain", worker_id, "worker set to drain")
    return {"id": worker_id, "state": worker.state}


def set_intake(sim: Simulation, paused: bool, actor: str) -> dict[str, Any]:
    sim.intake_paused = paused
    sim.record(actor, "intake.pause" if paused else "intake.resume", "intake", f"intake {'paused' if paused else 'resumed'}")
    return {"intake": "paused" if paused else "running"}


def set_concurrency_limit(sim: Simulation, limit: Any, actor: str) -> dict[str, Any]:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= 10_000:
        raise TypeError("limit must be an integer between 0 and 10000")
    before, sim.concurrency_limit = sim.concurrency_limit, limit
    sim.record(actor, "limits.concurrency", "concurrency", f"concurrency limit {before} → {limit}")
    return {"concurrency_limit": limit}


class MutationLedger:
    """Idempotency keys and a record of every mutation request (under the simulation lock)."""

    def __init__(self) -> None:
        self.records: deque[dict[str, Any]] = deque(maxlen=LEDGER_KEPT)
        self._replies: dict[str, tuple[str, int, Any]] = {}

    @staticmethod
    def fingerprint(method: str, path: str, body: bytes) -> str:
        return hashlib.sha256(f"{method} {path}\n".encode() + body).hexdigest()

    def replay(self, key: str, fingerprint: str) -> tuple[int, Any] | None:
        """The stored reply for `key`, or None if the key is new."""
        stored = self._replies.get(key)
        if stored is None:
            return None
        if stored[0] != fingerprint:
            return 422, {"error": "Idempotency-Key was already used for a different request"}
        return stored[1], stored[2]

    def remember(self, key: str, fingerprint: str, status: int, payload: Any) -> None:
        self._replies[key] = (fingerprint, status, payload)

    def note(self, at: str, method: str, path: str, key: str, body: bytes, status: int, applied: bool) -> None:
        self.records.append(
            {
                "at": at,
                "method": method,
                "path": path,
                "idempotency_key": key,
                "body": body.decode("utf-8", "replace")[:2000],
                "status": status,
                "applied": applied,
            }
        )
