"""The recording platform's API (DESIGN.md §4): recordings arrive on a Redis stream with one
shard per tenant, detector consumers read them, an hourly retention job deletes recordings
past the retention window from object storage, archived objects can be restored.

The simulation's queue is the stream (lag per shard = entries not yet delivered), its
workers the stream's consumers, its leases the pending entries (delivered, not acked;
claimable by another consumer once idle past the lease), its dead letters the failed
recordings (cursor-paged). The retention job, its pause flag, storage error counters and
restores live in the shape's state: a storage outage makes deletes fail, so the backlog of
stale objects grows and storage errors climb; pausing retention stops the hourly runs; a
manual run deletes the backlog now.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from console.demo import operations
from console.demo.dead_letters import TENANTS
from console.demo.metrics_text import metric_family as family
from console.demo.routing import HttpError, Reply, Request, Route, mutation
from console.demo.shapes import batches
from console.demo.shapes.stepped_state import SteppedState, caught_up
from console.demo.sim import SimJob, Simulation

STREAM = "recordings"
GROUP = "detector"
WINDOW_DAYS = 30
BACKLOG_THRESHOLD = 10_000
EXPIRING_PER_S = 4200 / 3600  # recordings passing the retention window, about 4,200 an hour
RUN_EVERY_S = 3600.0
RUN_MAX_DELETES = 20_000
RUN_ABORT_AFTER_ERRORS = 500  # the job gives up after this many failed deletes in a row
STORAGE_ERRORS_PER_S = {"put": (0.003, 2.5), "get": (0.002, 1.2)}  # (healthy, storage failing)
DETECTOR = {"model": "speech-detector", "version": "2024.11.2", "pinned": True}
DATABASE = {"node": "recordings-db-0", "role": "primary"}
# The simulation's failures in this system's words: (reason, detail).
REASONS = {
    "ProviderUnavailable": ("DetectorUnavailable", "detector endpoint answered 503"),
    "ProviderRateLimited": ("DetectorThrottled", "detector answered 429: inference queue full"),
    "ProviderTimeout": ("DetectorTimeout", "no detector result within 30 s"),
    "StorageWriteError": ("StorageWriteError", "PutObject recordings-processed failed: 503 SlowDown"),
    "StorageReadError": ("StorageReadError", "GetObject recordings-raw failed: 500 InternalError"),
    "InvalidInput": ("UnreadableMedia", "container has no audio track"),
}
SIM_CLASS = {reason: sim_class for sim_class, (reason, _) in REASONS.items()}


class RecordingPlatformState(SteppedState):
    def __init__(self, sim: Simulation):
        super().__init__(sim)
        self.backlog = round(EXPIRING_PER_S * 40 * 60)  # 40 minutes since the last run
        self.paused = False
        self.next_run_t = sim.t + 20 * 60
        self.last_run = {
            "id": "retention-000000",
            "trigger": "schedule",
            "started_at": sim.at(sim.t - 40 * 60),
            "status": "succeeded",
            "deleted_count": 4187,
            "errors": 0,
        }
        self.runs = 0
        self.storage_errors: Counter[str] = Counter({"put": 0, "get": 0, "delete": 0})
        self.deleted_total = 4187
        self.restores: dict[str, dict[str, Any]] = {}
        self._debt: Counter[str] = Counter()

    def _accrue(self, name: str, per_s: float) -> int:
        """Whole events out of a rate, with jitter, carrying the fraction over."""
        self._debt[name] += per_s * (0.5 + self.rng.random())
        whole = int(self._debt[name])
        self._debt[name] -= whole
        return whole

    def step(self, sim: Simulation) -> None:
        storage_failing = bool(sim.scenario.health.get("storage"))
        self.backlog += self._accrue("expiring", EXPIRING_PER_S)
        for op, (healthy, failing) in STORAGE_ERRORS_PER_S.items():
            self.storage_errors[op] += self._accrue(op, failing if storage_failing else healthy)
        if self.t >= self.next_run_t:
            self.next_run_t += RUN_EVERY_S
            if not self.paused:  # like a suspended CronJob: the hour passes without a run
                self.run(sim, "schedule")

    def run(self, sim: Simulation, trigger: str) -> dict[str, Any]:
        """One retention run, over at once: delete what is past the window, or give up
        after a run of failed deletes when storage refuses them."""
        self.runs += 1
        attempted = min(self.backlog, RUN_MAX_DELETES)
        if sim.scenario.health.get("storage"):
            deleted, errors = min(attempted, self.rng.randrange(5, 40)), min(attempted, RUN_ABORT_AFTER_ERRORS)
            status = "failed" if errors else "succeeded"
        else:
            deleted, errors, status = attempted, 0, "succeeded"
        self.backlog -= deleted
        self.deleted_total += deleted
        self.storage_errors["delete"] += errors
        self.last_run = {
            "id": f"retention-{self.runs:06d}",
            "trigger": trigger,
            "started_at": sim.at(self.t),
            "status": status,
            "deleted_count": deleted,
            "errors": errors,
        }
        return self.last_run

    def view(self, sim: Simulation) -> dict[str, Any]:
        return {
            "now": sim.now,
            "window_days": WINDOW_DAYS,
            "backlog": self.backlog,
            "backlog_threshold": BACKLOG_THRESHOLD,
            "paused": self.paused,
            "schedule": "0 * * * *",
            "next_run_at": None if self.paused else sim.at(self.next_run_t),
            "last_run": self.last_run,
        }


def _state(req: Request) -> RecordingPlatformState:
    return req.state


def recording_id(job: SimJob) -> str:
    return f"rec-{job.number:07d}"


def shard_of(tenant: str) -> str:
    return str(TENANTS.index(tenant)) if tenant in TENANTS else "0"


def consumer_name(sim_worker_id: str) -> str:
    return f"detector-{int(sim_worker_id.removeprefix('w-'))}"


# -- health and retention -----------------------------------------------------------------------


def health(req: Request) -> Reply:
    sim = req.sim
    workers = sim.scenario.health.get("workers", "")
    checks = {
        "postgres": "ok",
        "redis": "ok",
        "s3": "failing" if sim.scenario.health.get("storage") else "ok",
        "stream": {"not claiming": "lagging", "stalled": "consumers stalled"}.get(workers, "ok"),
        "detector": "failing" if sim.scenario.health.get("provider") else "ok",
    }
    ok = all(state == "ok" for state in checks.values())
    hard_down = checks["postgres"] != "ok" or checks["s3"] != "ok"
    body = {"status": "ok" if ok else "degraded", "now": sim.now, "checks": checks, "database": DATABASE, "detector": DETECTOR}
    return (503 if hard_down else 200), body


def retention_status(req: Request) -> Reply:
    return 200, _state(req).view(req.sim)


def pause_retention(sim: Simulation, state: RecordingPlatformState, paused: bool, actor: str) -> dict[str, Any]:
    if state.paused == paused:
        raise ValueError(f"retention is already {'paused' if paused else 'running'}")
    state.paused = paused
    sim.record(actor, "retention.pause" if paused else "retention.resume", "retention", f"retention {'paused' if paused else 'resumed'}")
    return state.view(sim)


def run_retention(sim: Simulation, state: RecordingPlatformState, actor: str) -> dict[str, Any]:
    if state.paused:
        raise ValueError("retention is paused; resume it before starting a run")
    run = state.run(sim, f"manual ({actor})")
    sim.record(actor, "retention.run", run["id"], f"manual retention run deleted {run['deleted_count']}")
    return run


# -- the stream: lag per shard, consumers, pending entries ----------------------------------------


def stream(req: Request) -> Reply:
    lag = Counter(shard_of(job.tenant) for job in req.sim.queue)
    pending = Counter(shard_of(lease.job.tenant) for lease in req.sim.leases.values())
    shards = [{"shard": str(i), "lag": lag[str(i)], "pending": pending[str(i)]} for i in range(len(TENANTS))]
    return 200, {"now": req.sim.now, "stream": STREAM, "group": GROUP, "shards": shards}


def consumers(req: Request) -> Reply:
    sim = req.sim
    return 200, {
        "now": sim.now,
        "group": GROUP,
        "consumers": [
            {
                "name": consumer_name(w.id),
                "state": {"busy": "reading", "draining": "leaving"}.get(w.state, w.state),
                "seen_at": sim.at(w.last_heartbeat),
                "recording_id": recording_id(w.job) if w.job else None,
                "pending": sum(1 for lease in sim.leases.values() if lease.worker is w),
            }
            for w in sim.workers
        ],
    }


def pending_entries(req: Request) -> Reply:
    sim, state = req.sim, _state(req)
    entries = [
        {
            # A stream entry id is the time it was added, in ms, and a sequence number.
            "entry_id": f"{state.ms(lease.job.created)}-{lease.job.number % 1000}",
            "recording_id": recording_id(lease.job),
            "consumer": consumer_name(lease.worker.id),
            "delivered_at": sim.at(lease.acquired),
            "claimable_at": sim.at(lease.expires),
            "deliveries": lease.job.attempts,
        }
        for lease in sim.leases.values()
    ]
    return 200, {"now": sim.now, "group": GROUP, "entries": entries}


# -- failed recordings, cursor-paged -------------------------------------------------------------


def failure_record(entry: dict[str, Any]) -> dict[str, Any]:
    reason, detail = REASONS.get(entry["error_class"], (entry["error_class"], entry["message"]))
    number = entry["payload"]["lecture_id"].removeprefix("lec-")
    return {
        "id": entry["id"].replace("dlq-", "f-", 1),
        "recording_id": f"rec-{number}",
        "reason": reason,
        "detail": detail,
        "deliveries": entry["attempts"],
        "first_failed_at": entry["first_failed_at"],
        "failed_at": entry["last_failed_at"],
        "recording": {"tenant": entry["payload"]["tenant"], "bucket": "recordings-raw", "key": f"{entry['payload']['tenant']}/rec-{number}.webm"},
    }


def _cursor(index: int) -> str:
    return base64.urlsafe_b64encode(f"before:{index}".encode()).decode().rstrip("=")


def _index_before(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        text = ""
    if not re.fullmatch(r"before:[0-9]{1,12}", text):
        raise HttpError(400, f"cursor {cursor[:40]!r} is not one this API gave out")
    return int(text.removeprefix("before:"))


def _position(entry: dict[str, Any]) -> int:
    return int(entry["id"].removeprefix("dlq-")) - 1


def list_failures(req: Request) -> Reply:
    """Newest first. A cursor names the last entry seen, so failures arriving meanwhile
    never shift a page (as an offset would)."""
    limit = req.int_param("limit", 50, 1, 200)
    reason = req.query.get("reason", [""])[-1]
    cursor = req.query.get("cursor", [""])[-1]
    if reason and reason not in SIM_CLASS:
        raise HttpError(400, f"reason must be one of {', '.join(SIM_CLASS)}, got {reason!r}")
    queue = req.sim.dead_letters
    if reason:
        total = queue.filtered_page(0, 0, SIM_CLASS[reason], "")[0]

        def fetch(offset: int, count: int) -> list[dict[str, Any]]:
            return queue.filtered_page(offset, count, SIM_CLASS[reason], "")[1]
    else:
        total, fetch = len(queue), queue.page
    start = 0
    if cursor:
        before, high = _index_before(cursor), total
        while start < high:  # positions fall as offsets rise: the first offset past the cursor
            middle = (start + high) // 2
            if _position(fetch(middle, 1)[0]) < before:
                high = middle
            else:
                start = middle + 1
    page = fetch(start, limit)
    more = start + len(page) < total
    by_reason: Counter[str] = Counter()
    for sim_class, count in queue.error_classes().items():
        by_reason[REASONS.get(sim_class, (sim_class, ""))[0]] += count
    return 200, {
        "now": req.sim.now,
        "failures": [failure_record(entry) for entry in page],
        "next_cursor": _cursor(_position(page[-1])) if page and more else None,
        "total": total,
        "by_reason": dict(by_reason.most_common()),
    }


def _letter_id(failure_id: str) -> str:
    if not re.fullmatch(r"f-[0-9]{7,}", failure_id):
        raise LookupError(f"no failure {failure_id!r}")
    return failure_id.replace("f-", "dlq-", 1)


def retry_failure(sim: Simulation, failure_id: str, actor: str) -> dict[str, Any]:
    operations.replay_dead_letter(sim, _letter_id(failure_id), actor)
    return {"id": failure_id, "state": "requeued"}


def retry_failures(sim: Simulation, ids: Any, actor: str) -> dict[str, Any]:
    return batches.each(ids, "ids", lambda one: retry_failure(sim, one, actor))


# -- restores of archived recordings ------------------------------------------------------------

RESTORE_HOURS = 4  # the archive's standard tier takes hours, not seconds


def restore_view(sim: Simulation, rid: str, restore: dict[str, Any]) -> dict[str, Any]:
    done = sim.t >= restore["ready_t"]
    return {
        "recording_id": rid,
        "status": "restored" if done else "in-progress",
        "requested_at": sim.at(restore["requested_t"]),
        "ready_at": sim.at(restore["ready_t"]),
        "days": restore["days"],
        "tier": "Standard",
    }


def restore_recording(sim: Simulation, state: RecordingPlatformState, rid: str, days: Any, actor: str) -> dict[str, Any]:
    if not re.fullmatch(r"rec-[0-9]{7}", rid):
        raise LookupError(f"no recording {rid!r}")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 30:
        raise TypeError("days must be an integer between 1 and 30")
    current = state.restores.get(rid)
    if current is not None and sim.t < current["ready_t"]:
        raise ValueError(f"a restore of {rid} is already in progress")
    state.restores[rid] = {"requested_t": sim.t, "ready_t": sim.t + RESTORE_HOURS * 3600, "days": days}
    sim.record(actor, "recording.restore", rid, f"restore from the archive for {days} days")
    return restore_view(sim, rid, state.restores[rid])


def get_restore(req: Request) -> Reply:
    rid = req.match["rid"]
    restore = _state(req).restores.get(rid)
    if restore is None:
        raise HttpError(404, f"no restore of {rid!r} was requested")
    return 200, restore_view(req.sim, rid, restore)


# -- /metrics ---------------------------------------------------------------------------------


def metrics(req: Request) -> Reply:
    sim, state = req.sim, _state(req)
    lag = Counter(shard_of(job.tenant) for job in sim.queue)
    lines: list[str] = []
    family(lines, "recording_storage_errors_total", "counter", "Object storage requests that failed, by operation.", [(f'{{op="{op}"}}', n) for op, n in state.storage_errors.items()])
    family(lines, "recording_retention_backlog_objects", "gauge", "Recordings past the retention window not yet deleted.", [("", state.backlog)])
    family(lines, "recording_retention_deleted_total", "counter", "Recordings deleted by the retention job.", [("", state.deleted_total)])
    family(lines, "recording_retention_paused", "gauge", "1 while the retention job is paused.", [("", int(state.paused))])
    family(lines, "recording_stream_lag", "gauge", "Stream entries not yet delivered to the consumer group, by shard.", [(f'{{shard="{i}"}}', lag[str(i)]) for i in range(len(TENANTS))])
    family(lines, "recording_stream_pending", "gauge", "Entries delivered to a consumer and not acknowledged.", [("", len(sim.leases))])
    family(lines, "recording_detector_model_info", "gauge", "The detector model in use.", [(f'{{version="{DETECTOR["version"]}"}}', 1)])
    return 200, "\n".join(lines) + "\n"


def _with_state(operation: Callable[..., Any], *args: Any) -> Callable[[Request], Reply]:
    """A mutation on the shape's state (the state goes first, after the simulation)."""
    return caught_up(mutation(operation, lambda r: r.state, *args))


ROUTES: list[Route] = [
    ("GET", re.compile(r"/api/health"), caught_up(health)),
    ("GET", re.compile(r"/metrics"), caught_up(metrics)),
    ("GET", re.compile(r"/api/retention/status"), caught_up(retention_status)),
    ("POST", re.compile(r"/api/retention/pause"), _with_state(pause_retention, True)),
    ("POST", re.compile(r"/api/retention/resume"), _with_state(pause_retention, False)),
    ("POST", re.compile(r"/api/retention/runs"), _with_state(run_retention)),
    ("GET", re.compile(r"/api/streams/recordings"), caught_up(stream)),
    ("GET", re.compile(r"/api/streams/recordings/consumers"), caught_up(consumers)),
    ("GET", re.compile(r"/api/streams/recordings/pending"), caught_up(pending_entries)),
    ("GET", re.compile(r"/api/failures"), caught_up(list_failures)),
    ("POST", re.compile(r"/api/failures/retry"), caught_up(mutation(retry_failures, lambda r: r.json().get("ids")))),
    ("POST", re.compile(r"/api/failures/(?P<id>[^/]+)/retry"), caught_up(mutation(retry_failure, lambda r: r.match["id"]))),
    ("GET", re.compile(r"/api/recordings/(?P<rid>[^/]+)/restore"), caught_up(get_restore)),
    ("POST", re.compile(r"/api/recordings/(?P<rid>[^/]+)/restore"), _with_state(restore_recording, lambda r: r.match["rid"], lambda r: r.json().get("days", 7))),
]
