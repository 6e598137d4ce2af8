"""A deterministic simulated job system: producers, a queue, workers under leases, retries,
a dead-letter queue and stages whose dependencies fail by scenario.

Time advances in fixed steps, lazily: when a request comes in, the simulation catches up
to `elapsed wall time x speed`. The state at simulated time T therefore depends only on
the seed, the options and when scenarios were switched, never on request timing, and an
idle demo costs no CPU.
"""

from __future__ import annotations

import heapq
import random
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from console.demo.dead_letters import TENANTS, DeadLetterQueue, StoredLetter, iso, payload_for
from console.demo.faults import FaultSet
from console.demo.scenarios import MEAN_JOB_SECONDS, SCENARIOS_BY_NAME, STAGE_SECONDS, STAGES, Failure, Scenario

STEP_S = 0.25
HEARTBEAT_EVERY_S = 5.0
REAPER_DELAY_S = 2.0  # how long after expiry a lease is recovered, when recovery works
WINDOW_S = 60.0  # rates on /metrics are over the last minute
OUTCOME_WINDOW_S = 300.0  # stage outcomes kept for success ratios and latency percentiles
MAX_CATCH_UP_S = 3600.0  # a long-idle demo skips ahead instead of replaying hours at once
NOISY_TENANT = "t-globex"
NOISY_TENANT_LIMIT = 2
FINISHED_KEPT = 1000
MAX_ADVANCE_S = 86400.0


@dataclass
class SimJob:
    number: int
    tenant: str
    created: float
    state: str = "queued"  # queued | running | retrying | succeeded | dead_lettered
    stage: int = 0
    attempts: int = 0
    worker: str | None = None
    updated: float = 0.0
    last_error: str | None = None
    first_failed: float | None = None
    history: list[tuple[float, str, str]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"job-{self.number:06d}"

    def log(self, at: float, event: str, detail: str = "") -> None:
        self.history.append((at, event, detail))
        del self.history[:-20]


@dataclass
class SimWorker:
    id: str
    started: float
    last_heartbeat: float
    state: str = "idle"  # idle | busy | stalled | draining
    job: SimJob | None = None
    stage_started: float = 0.0
    stage_done_at: float = 0.0
    jobs_done: int = 0


@dataclass
class SimLease:
    id: str
    job: SimJob
    worker: SimWorker
    acquired: float
    expires: float


class Simulation:
    def __init__(
        self,
        scenario: str = "healthy",
        speed: float = 1.0,
        seed: int = 1,
        workers: int = 8,
        lease_ttl_s: float = 30.0,
        max_attempts: int = 3,
        dlq_preload: int = 0,
        warmup_s: float = 60.0,
        held_leases: int = 0,
        clock=time.monotonic,
    ):
        if scenario not in SCENARIOS_BY_NAME:
            raise ValueError(f"unknown scenario {scenario!r}; known: {', '.join(SCENARIOS_BY_NAME)}")
        self.lock = threading.RLock()
        self.speed = speed
        self.seed = seed
        self.lease_ttl_s = lease_ttl_s
        self.max_attempts = max_attempts
        self._clock = clock
        self._rng = random.Random(seed)
        self.scenario: Scenario = SCENARIOS_BY_NAME[scenario]
        # Simulated time 0 is "now" on the wall clock, minus the warm-up that runs below.
        self._epoch = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(seconds=warmup_s)
        self.t = 0.0
        self._anchor_wall = clock()
        self._anchor_sim = 0.0
        width = 4 if workers > 99 else 2
        self.workers = [SimWorker(f"w-{i + 1:0{width}d}", 0.0, 0.0) for i in range(workers)]
        self._stalled_order = self._rng.sample(range(workers), workers)
        self.queue: deque[SimJob] = deque()
        self._retries: list[tuple[float, int, SimJob]] = []
        self.active: dict[str, SimJob] = {}
        self.finished: deque[SimJob] = deque(maxlen=FINISHED_KEPT)
        self.leases: dict[str, SimLease] = {}
        self.dead_letters = DeadLetterQueue(dlq_preload, self._epoch, seed)
        self.audit: deque[dict[str, Any]] = deque(maxlen=1000)
        # Operator controls (console/demo/operations.py): intake pause and a concurrency cap.
        self.intake_paused = False
        self.concurrency_limit: int | None = None
        # Failure class → share of its failures an operator's mitigation absorbs (a fallback
        # engine that reads what the primary cannot): set by a shape's own mutations.
        self.mitigated: dict[str, float] = {}
        self.counters: Counter[tuple[str, str]] = Counter()
        self._finished_window: deque[tuple[float, bool]] = deque()
        self._claims_window: deque[tuple[float, bool]] = deque()
        self._recoveries: deque[tuple[float, float]] = deque()
        # (finished at, stage, error class or None, seconds the run took), last 5 minutes.
        self.stage_outcomes: deque[tuple[float, str, str | None, float]] = deque()
        self._next_job = 1
        self._next_lease = 1
        self.faults = FaultSet()  # how the HTTP layer misbehaves (POST /sim/faults)
        self._arrival_debt = 0.0
        self._held: dict[str, list[SimLease]] = {}
        self._hold_leases(held_leases)
        self._apply_stalls()
        self._run_until(warmup_s)
        self._anchor_sim = self.t

    # -- clock ---------------------------------------------------------------------------

    def at(self, t: float) -> str:
        return iso(self._epoch + timedelta(seconds=t))

    @property
    def now(self) -> str:
        return self.at(self.t)

    def sync(self) -> None:
        """Catch up with the wall clock (call with the lock held)."""
        wall = self._clock()
        target = self._anchor_sim + (wall - self._anchor_wall) * self.speed
        if target - self.t > MAX_CATCH_UP_S:
            self._anchor_wall, self._anchor_sim = wall, self.t + MAX_CATCH_UP_S
            target = self._anchor_sim
        self._run_until(target)

    def advance(self, seconds: float) -> None:
        if not 0 <= seconds <= MAX_ADVANCE_S:
            raise ValueError(f"seconds must be between 0 and {MAX_ADVANCE_S:g}")
        with self.lock:
            self.sync()
            self._run_until(self.t + seconds)
            self._anchor_sim += seconds
            self.record("sim", "sim.advance", f"{seconds:g}s", f"simulated time moved forward {seconds:g}s")

    def set_scenario(self, name: str) -> None:
        if name not in SCENARIOS_BY_NAME:
            raise ValueError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS_BY_NAME)}")
        with self.lock:
            self.sync()
            previous = self.scenario.name
            self.scenario = SCENARIOS_BY_NAME[name]
            self._apply_stalls()
            self.record("sim", "scenario.set", name, f"scenario changed from {previous} to {name}")

    def record(self, actor: str, action: str, target: str, detail: str) -> None:
        self.audit.append({"at": self.now, "actor": actor, "action": action, "target": target, "detail": detail})

    def _run_until(self, target: float) -> None:
        while self.t + STEP_S <= target + 1e-9:
            self.t += STEP_S
            self._step()

    # -- one step ------------------------------------------------------------------------

    def _apply_stalls(self) -> None:
        stalled = set(self._stalled_order[: round(len(self.workers) * self.scenario.stalled_fraction)])
        for index, worker in enumerate(self.workers):
            if index in stalled and worker.state != "stalled":
                worker.state = "stalled"
            elif index not in stalled and worker.state == "stalled":
                worker.state = "busy" if worker.job else "idle"
                worker.last_heartbeat = self.t
                self._renew_lease(worker)

    def _step(self) -> None:
        now = self.t
        self._arrive(now)
        while self._retries and self._retries[0][0] <= now:
            _, _, job = heapq.heappop(self._retries)
            job.state, job.updated = "queued", now
            self.queue.appendleft(job)  # a due retry goes ahead of new work
        for worker in self.workers:
            if worker.state == "stalled":
                continue
            if now - worker.last_heartbeat >= HEARTBEAT_EVERY_S:
                worker.last_heartbeat = now
                self._renew_lease(worker)
            if worker.job is not None and now >= worker.stage_done_at:
                self._finish_stage(worker, now)
        self._dispatch(now)
        self._reap(now)
        self._trim_windows(now)

    def _arrive(self, now: float) -> None:
        if self.intake_paused:
            return
        capacity = len(self.workers) / MEAN_JOB_SECONDS  # jobs per second
        self._arrival_debt += capacity * self.scenario.arrival_load * STEP_S * (0.5 + self._rng.random())
        while self._arrival_debt >= 1:
            self._arrival_debt -= 1
            if self._rng.random() < self.scenario.noisy_tenant_share:
                tenant = NOISY_TENANT
            else:
                tenant = TENANTS[self._rng.randrange(len(TENANTS))]
            job = SimJob(self._next_job, tenant, now, updated=now)
            self._next_job += 1
            job.log(now, "enqueued")
            self.active[job.id] = job
            self.queue.append(job)

    def _dispatch(self, now: float) -> None:
        if not self.queue:
            return
        if not self.scenario.claiming:
            return  # workers poll and get noop: the backlog grows
        # A stalled worker still takes one job before it hangs: that is how leases go stale.
        idle = [w for w in self.workers if w.job is None and w.state in ("idle", "stalled")]
        if not idle:
            if now.is_integer():  # workers re-poll once a second when they are all busy
                self.counters[("backpressure", "worker_limit")] += 1
            return
        running_noisy = sum(1 for w in self.workers if w.job is not None and w.job.tenant == NOISY_TENANT)
        deferred: list[SimJob] = []
        for worker in idle:
            if self.concurrency_limit is not None and sum(1 for w in self.workers if w.job) >= self.concurrency_limit:
                break
            job = None
            refused = False
            while self.queue:
                candidate = self.queue.popleft()
                if (
                    self.scenario.noisy_tenant_share
                    and candidate.tenant == NOISY_TENANT
                    and running_noisy >= NOISY_TENANT_LIMIT
                ):
                    refused = True
                    deferred.append(candidate)
                    continue
                job = candidate
                break
            if refused:  # one refused poll, however many of the tenant's jobs it skipped
                self.counters[("backpressure", "tenant_limit")] += 1
            if job is None:
                break
            # Another worker raced for the same job: the claim loses, the job stays queued.
            conflict = self._rng.random() < self.scenario.conflict_chance
            self._claims_window.append((now, conflict))
            if conflict:
                self.counters[("lease", "conflict")] += 1
                self.queue.appendleft(job)
                continue
            if job.tenant == NOISY_TENANT:
                running_noisy += 1
            self._claim(worker, job, now)
        self.queue.extendleft(reversed(deferred))

    def _claim(self, worker: SimWorker, job: SimJob, now: float) -> None:
        job.state, job.worker, job.updated = "running", worker.id, now
        job.attempts += 1
        job.log(now, "claimed", f"{worker.id} attempt {job.attempts}")
        worker.job = job
        if worker.state == "idle":
            worker.state = "busy"
        worker.stage_started, worker.stage_done_at = now, now + self._stage_time(job.stage)
        lease = SimLease(f"lease-{self._next_lease:07d}", job, worker, now, now + self.lease_ttl_s)
        self._next_lease += 1
        self.leases[job.id] = lease

    def _stage_time(self, stage: int) -> float:
        mean = STAGE_SECONDS[STAGES[stage]]
        return max(STEP_S, mean * (0.5 + self._rng.random()))

    def _renew_lease(self, worker: SimWorker) -> None:
        if worker.job is not None and worker.job.id in self.leases:
            self.leases[worker.job.id].expires = self.t + self.lease_ttl_s
        for lease in self._held.get(worker.id, ()):
            if self.leases.get(lease.job.id) is lease:
                lease.expires = self.t + self.lease_ttl_s

    # -- held leases: a large lease table for benchmarks -----------------------------------

    def _hold_leases(self, count: int) -> None:
        """`count` leases on long-running jobs (think batch exports), spread over the
        workers beyond the job each one runs, renewed by their heartbeats; a stalled
        worker's expire like any other."""
        if count and not self.workers:
            raise ValueError("held leases need at least one worker")
        for index in range(count):
            worker = self.workers[index % len(self.workers)]
            job = SimJob(self._next_job, TENANTS[index % len(TENANTS)], 0.0, state="running", stage=len(STAGES) - 1)
            job.worker, job.attempts = worker.id, 1
            self._next_job += 1
            lease = SimLease(f"lease-{self._next_lease:07d}", job, worker, 0.0, self.lease_ttl_s)
            self._next_lease += 1
            self.active[job.id] = job
            self.leases[job.id] = lease
            self._held.setdefault(worker.id, []).append(lease)

    def _leases_held(self, worker: SimWorker) -> int:
        running = 1 if worker.job is not None and worker.job.id in self.leases else 0
        return running + sum(1 for lease in self._held.get(worker.id, ()) if self.leases.get(lease.job.id) is lease)

    def _failure(self, stage: str) -> Failure | None:
        chance, kinds = self.scenario.failures.get(stage, (0.0, ()))
        if self._rng.random() >= chance:
            return None
        pick = self._rng.random() * sum(weight for _, weight in kinds)
        failure = kinds[-1][0]
        for kind, weight in kinds:
            pick -= weight
            if pick <= 0:
                failure = kind
                break
        if failure[0] in self.mitigated and self._rng.random() < self.mitigated[failure[0]]:
            return None
        return failure

    def _finish_stage(self, worker: SimWorker, now: float) -> None:
        job = worker.job
        assert job is not None
        stage = STAGES[job.stage]
        failure = self._failure(stage)
        self.counters[("stage_runs", stage)] += 1
        self.stage_outcomes.append((now, stage, failure[0] if failure else None, now - worker.stage_started))
        if failure is None:
            job.stage += 1
            if job.stage < len(STAGES):
                job.updated = now
                worker.stage_started, worker.stage_done_at = now, now + self._stage_time(job.stage)
                return
            job.stage = len(STAGES) - 1
            self._release(worker, job)
            self._finish(job, now, "succeeded")
            worker.jobs_done += 1
            return
        error_class, message, terminal = failure
        self.counters[("stage_failures", stage)] += 1
        self.counters[("failures", error_class)] += 1
        job.last_error = f"{error_class}: {message}"
        if job.first_failed is None:
            job.first_failed = now
        job.log(now, "failed", f"{stage}: {job.last_error}")
        self._release(worker, job)
        worker.jobs_done += 1
        if terminal or job.attempts >= self.max_attempts:
            self._finish(job, now, "dead_lettered")
            self.dead_letters.add(
                StoredLetter(
                    job_id=job.id,
                    error_class=error_class,
                    message=message,
                    attempts=job.attempts,
                    first_failed_at=self._epoch + timedelta(seconds=job.first_failed),
                    last_failed_at=self._epoch + timedelta(seconds=now),
                    payload=payload_for(job.number, job.tenant),
                )
            )
            return
        self.counters[("jobs", "retried")] += 1
        job.state, job.worker, job.updated = "retrying", None, now
        heapq.heappush(self._retries, (now + 2.0**job.attempts, job.number, job))  # exponential backoff

    def _release(self, worker: SimWorker, job: SimJob) -> None:
        self.leases.pop(job.id, None)
        worker.job = None
        if worker.state == "busy":
            worker.state = "idle"

    def _finish(self, job: SimJob, now: float, outcome: str) -> None:
        job.state, job.worker, job.updated = outcome, None, now
        job.log(now, outcome)
        self.counters[("jobs", outcome)] += 1
        self.active.pop(job.id, None)
        self.finished.append(job)
        self._finished_window.append((now, outcome == "dead_lettered"))

    def _reap(self, now: float) -> None:
        """Requeue jobs whose lease expired (a crashed or stalled worker), when recovery works."""
        if not self.scenario.recovery:
            return
        for lease in [lease for lease in self.leases.values() if now - lease.expires >= REAPER_DELAY_S]:
            self.leases.pop(lease.job.id)
            job, worker = lease.job, lease.worker
            if worker.job is job:
                worker.job = None
            job.state, job.worker, job.updated = "queued", None, now
            job.log(now, "recovered", f"lease {lease.id} expired; requeued")
            self.queue.appendleft(job)
            self._recoveries.append((now, (now - lease.expires) * 1000))

    def _trim_windows(self, now: float) -> None:
        for window in (self._finished_window, self._claims_window, self._recoveries):
            while window and window[0][0] < now - WINDOW_S:
                window.popleft()
        while self.stage_outcomes and self.stage_outcomes[0][0] < now - OUTCOME_WINDOW_S:
            self.stage_outcomes.popleft()

    # -- read models (call with the lock held, after sync) ------------------------------

    def recovery_latency_ms(self) -> float:
        """Worst recovery in the last minute, or the age of the oldest unrecovered expired lease."""
        worst = max((ms for _, ms in self._recoveries), default=0.0)
        for lease in self.leases.values():
            if lease.expires < self.t:
                worst = max(worst, (self.t - lease.expires) * 1000)
        return worst

    def terminal_error_rate(self) -> float:
        if not self._finished_window:
            return 0.0
        return sum(1 for _, terminal in self._finished_window if terminal) / len(self._finished_window)

    def lease_conflict_rate(self) -> float:
        if not self._claims_window:
            return 0.0
        return sum(1 for _, conflict in self._claims_window if conflict) / len(self._claims_window)

    def health(self) -> dict[str, Any]:
        checks = {"api": "ok", "queue": "ok", "workers": "ok", "provider": "ok", "storage": "ok"}
        checks.update(self.scenario.health)
        if len(self.queue) >= 500 and checks["queue"] == "ok":
            checks["queue"] = "backlog"
        status = "ok" if all(v == "ok" for v in checks.values()) else "degraded"
        return {"status": status, "now": self.now, "scenario": self.scenario.name, "checks": checks}

    def job_view(self, job: SimJob, detail: bool = False) -> dict[str, Any]:
        view: dict[str, Any] = {
            "id": job.id,
            "tenant": job.tenant,
            "state": job.state,
            "stage": STAGES[job.stage],
            "attempts": job.attempts,
            "max_attempts": self.max_attempts,
            "worker_id": job.worker,
            "created_at": self.at(job.created),
            "updated_at": self.at(job.updated),
            "last_error": job.last_error,
        }
        if detail:
            view["payload"] = payload_for(job.number, job.tenant)
            view["history"] = [{"at": self.at(at), "event": e, "detail": d} for at, e, d in job.history]
        return view

    def jobs(self, state: str | None) -> list[SimJob]:
        every = list(self.active.values()) + list(self.finished)
        chosen = [job for job in every if state is None or job.state == state]
        return sorted(chosen, key=lambda job: job.number, reverse=True)

    def find_job(self, job_id: str) -> SimJob | None:
        return self.active.get(job_id) or next((j for j in self.finished if j.id == job_id), None)

    def worker_view(self, worker: SimWorker) -> dict[str, Any]:
        return {
            "id": worker.id,
            "state": worker.state,
            "last_heartbeat_at": self.at(worker.last_heartbeat),
            "current_job_id": worker.job.id if worker.job else None,
            "leases_held": self._leases_held(worker),
            "started_at": self.at(worker.started),
            "jobs_done": worker.jobs_done,
        }

    def lease_view(self, lease: SimLease) -> dict[str, Any]:
        return {
            "id": lease.id,
            "job_id": lease.job.id,
            "worker_id": lease.worker.id,
            "acquired_at": self.at(lease.acquired),
            "expires_at": self.at(lease.expires),
            "ttl_s": self.lease_ttl_s,
        }
