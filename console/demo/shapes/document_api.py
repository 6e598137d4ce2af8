"""The ML document API (DESIGN.md §5): documents go through OCR, layout, field extraction by
a versioned model and storage, in batch jobs run by replicas.

Routes: `GET /v1/health` (model name, version and last good version, OCR engine, checks),
`GET /v1/stats` (latency percentiles, model error rate with precision/recall, OCR failure
rate, storage errors as a counter; `/metrics` has the same in the Prometheus format), `GET /v1/batches`, `GET /v1/batches/{batch_id}`,
`GET /v1/replicas`, failed batches with cursor paging and an error filter
(`GET /v1/batches/failed`), and the mutations: requeue failed batches (one, or a list),
and `PUT /v1/ocr/engine` to divert OCR to the fallback engine and back.

The simulation's vocabulary is translated, never stored twice: job-000042 is
batch-000042, worker w-03 is replica document-api-03, dead letter dlq-0000007 is failure
fail-0000007, and the stages ingest → transcribe → generate → export are
ocr → layout → extract → store. Scenarios land on this system's signals: provider-outage
is a bad model release (the extract step fails; the version in health and stats is the
new one), error-spike is pages the OCR engine cannot read, storage-outage is the document
store failing, backlog is replicas not taking batches (latency climbs).
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from console.demo import operations
from console.demo.routing import HttpError, Reply, Request, Route, mutation
from console.demo.scenarios import (
    INVALID_INPUT,
    PROVIDER_429,
    PROVIDER_503,
    PROVIDER_TIMEOUT,
    STAGES,
    STORAGE_READ,
    STORAGE_WRITE,
)
from console.demo.sim import SimJob, Simulation

MODEL_NAME = "docfields-extractor"
LAST_GOOD_VERSION = "3.4.1"
BAD_RELEASE = "3.5.0"  # what provider-outage deploys: it fails on most documents
OCR_ENGINES = {"primary": "docvision-2.8", "fallback": "tesseract-5.3"}
FALLBACK_READS = 0.8
"""Share of the pages the primary OCR engine fails on that the fallback engine reads."""
WINDOW_S = 60.0
"""Rates in /v1/stats are over (at least) the last minute."""
OCR_FAILING = 0.05  # the OCR check in /v1/health fails from this failure rate

STEPS = dict(zip(STAGES, ("ocr", "layout", "extract", "store"), strict=True))
STATUSES = {"queued": "queued", "running": "processing", "retrying": "retrying", "succeeded": "completed", "dead_lettered": "failed"}
SIM_STATES = {status: state for state, status in STATUSES.items()}
REPLICA_STATUS = {"idle": "ready", "busy": "busy", "stalled": "unresponsive", "draining": "draining"}
# The simulation's failure classes in this API's words (one to one, so the error filter maps back).
ERRORS = {
    PROVIDER_503[0]: ("ModelInferenceError", "extraction model raised during inference: no fields above the confidence floor"),
    PROVIDER_429[0]: ("ModelOverloaded", "inference queue on the replica is full (HTTP 429)"),
    PROVIDER_TIMEOUT[0]: ("ModelTimeout", "no inference result within 30s"),
    STORAGE_WRITE[0]: ("StorageWriteError", "PUT result to the document store failed: HTTP 503 SlowDown"),
    STORAGE_READ[0]: ("StorageReadError", "GET source document from the document store failed: HTTP 500"),
    INVALID_INPUT[0]: ("OcrFailed", "OCR found no readable text: page image unreadable or unsupported encoding"),
}
SIM_CLASSES = {code: sim_class for sim_class, (code, _) in ERRORS.items()}
STORAGE_CLASSES = (STORAGE_WRITE[0], STORAGE_READ[0])
DOCUMENT_KINDS = ("invoice", "receipt", "contract", "id-card")


@dataclass
class DocumentApiState:
    """What this system has beyond the simulation: its model and OCR engine, and readings
    of the simulation's counters so rates cover a window."""

    replicas: int
    ocr_mode: str = "primary"
    model_version: str = LAST_GOOD_VERSION
    last_good_version: str = LAST_GOOD_VERSION
    samples: deque[tuple[float, Counter[tuple[str, str]]]] = field(default_factory=lambda: deque([(0.0, Counter())]))
    """(simulated time, counters) readings; the first is the simulation's start."""

    def observe(self, sim: Simulation) -> None:
        # The bad release is live while provider-outage lasts; once the scenario is over
        # the model is back on the last good version.
        self.model_version = BAD_RELEASE if sim.scenario.name == "provider-outage" else self.last_good_version
        if sim.t > self.samples[-1][0]:
            self.samples.append((sim.t, sim.counters.copy()))
        # Keep one reading at or before the window's start, and everything after it.
        while len(self.samples) > 1 and self.samples[1][0] <= sim.t - WINDOW_S:
            self.samples.popleft()

    def window(self, sim: Simulation) -> tuple[float, Counter[tuple[str, str]]]:
        """(seconds covered, counter increases) from the oldest kept reading to now."""
        since, then = self.samples[0]
        return sim.t - since, sim.counters - then


def new_state(sim: Simulation) -> DocumentApiState:
    return DocumentApiState(replicas=len(sim.workers))


def _state(req: Request) -> DocumentApiState:
    state: DocumentApiState = req.state
    state.observe(req.sim)
    return state


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]  # nearest rank


def _latencies_ms(sim: Simulation) -> list[float]:
    """Batches finished in the last minute (submission to result) and batches still in
    flight (their age so far: a backlog shows up before anything finishes late)."""
    done = [job.updated - job.created for job in sim.finished if sim.t - job.updated <= WINDOW_S]
    waiting = [sim.t - job.created for job in sim.active.values()]
    return [seconds * 1000 for seconds in done + waiting]


def _rates(sim: Simulation, state: DocumentApiState) -> tuple[float, float, float]:
    """(seconds covered, model error rate, OCR failure rate) over the window."""
    window_s, delta = state.window(sim)
    model_errors = _ratio(delta[("stage_failures", "generate")], delta[("stage_runs", "generate")])
    return window_s, model_errors, _ratio(delta[("failures", INVALID_INPUT[0])], delta[("stage_runs", "ingest")])


# -- health and stats -----------------------------------------------------------------------


def health(req: Request) -> Reply:
    state = _state(req)
    ocr_failures = _rates(req.sim, state)[2]
    base = req.sim.health()["checks"]
    if ocr_failures >= OCR_FAILING:
        ocr = "failing"
    else:
        ocr = "ok" if state.ocr_mode == "primary" else "on fallback engine"
    checks = {
        "api": base["api"],
        "queue": base["queue"],
        "replicas": base["workers"],
        "model": base["provider"],
        "ocr": ocr,
        "storage": base["storage"],
    }
    return 200, {
        "status": "ok" if all(value == "ok" for value in checks.values()) else "degraded",
        "server_time": req.sim.now,
        "model": {"name": MODEL_NAME, "version": state.model_version, "last_good_version": state.last_good_version},
        "ocr": {"engine": OCR_ENGINES[state.ocr_mode], "mode": state.ocr_mode},
        "replicas": {"desired": state.replicas, "ready": sum(1 for w in req.sim.workers if w.state != "stalled")},
        "checks": checks,
    }


def stats(req: Request) -> Reply:
    return 200, _stats(req.sim, _state(req))


def _stats(sim: Simulation, state: DocumentApiState) -> dict[str, Any]:
    window_s, model_errors, ocr_failures = _rates(sim, state)
    latencies = _latencies_ms(sim)
    running = sum(1 for job in sim.active.values() if job.state == "running")
    return {
        "server_time": sim.now,
        "window_s": round(window_s, 1),
        "latency_ms": {name: _percentile(latencies, share) for name, share in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))},
        "model": {
            "name": MODEL_NAME,
            "version": state.model_version,
            "error_rate": model_errors,
            # Spot-checked extraction quality of the live version moves with its error rate.
            "precision": round(0.95 - 0.5 * model_errors, 3),
            "recall": round(0.92 - 0.6 * model_errors, 3),
        },
        "ocr": {"engine": OCR_ENGINES[state.ocr_mode], "mode": state.ocr_mode, "failure_rate": ocr_failures},
        "storage": {"errors_total": sum(sim.counters[("failures", name)] for name in STORAGE_CLASSES)},
        "batches": {"queued": len(sim.queue), "processing": running, "failed": len(sim.dead_letters)},
    }


def metrics(req: Request) -> Reply:
    """The same figures in the Prometheus text format, for a Prometheus that scrapes the replicas."""
    sim = req.sim
    figures = _stats(sim, _state(req))
    model, ocr = figures["model"], figures["ocr"]
    storage_errors = {op: sim.counters[("failures", name)] for op, name in (("read", STORAGE_READ[0]), ("write", STORAGE_WRITE[0]))}
    families = [
        ("docapi_latency_seconds", "gauge", "Batch latency from submission to result over the last minute, by quantile.",
         [(f'{{quantile="{q}"}}', (figures["latency_ms"][p] or 0) / 1000) for q, p in (("0.5", "p50"), ("0.95", "p95"), ("0.99", "p99"))]),
        ("docapi_model_error_ratio", "gauge", "Share of documents the extraction model failed on over the last minute.",
         [(f'{{version="{model["version"]}"}}', model["error_rate"])]),
        ("docapi_ocr_failure_ratio", "gauge", "Share of documents OCR found no readable text in over the last minute.",
         [(f'{{engine="{ocr["engine"]}"}}', ocr["failure_rate"])]),
        ("docapi_storage_errors_total", "counter", "Failed reads and writes to the document store.",
         [(f'{{op="{op}"}}', count) for op, count in storage_errors.items()]),
        ("docapi_batches", "gauge", "Batches by status (failed: waiting to be requeued).",
         [(f'{{status="{status}"}}', count) for status, count in figures["batches"].items()]),
    ]
    lines = []
    for name, kind, text, samples in families:
        lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
        lines += [f"{name}{labels} {value:g}" for labels, value in samples]
    return 200, "\n".join(lines) + "\n"


# -- batches and replicas -------------------------------------------------------------------


def batch_id(job_id: str) -> str:
    return "batch-" + job_id.removeprefix("job-")


def failure_id(letter_id: str) -> str:
    return "fail-" + letter_id.removeprefix("dlq-")


def letter_id(failure: str) -> str:
    """fail-0000007 → dlq-0000007; anything else → "" (no such failure)."""
    digits = failure.removeprefix("fail-")
    return "dlq-" + digits if failure != digits and digits.isdigit() else ""


def _error(last_error: str | None) -> str | None:
    if not last_error:
        return None
    sim_class = last_error.split(":", 1)[0]
    code, message = ERRORS.get(sim_class, (sim_class, last_error))
    return f"{code}: {message}"


def _documents(job_id: str) -> int:
    digits = "".join(ch for ch in job_id if ch.isdigit())
    return 1 + int(digits or 0) % 40


def batch_view(sim: Simulation, job: SimJob, detail: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "batch_id": batch_id(job.id),
        "tenant": job.tenant,
        "status": STATUSES[job.state],
        "step": STEPS[STAGES[job.stage]],
        "documents": _documents(job.id),
        "attempts": job.attempts,
        "max_attempts": sim.max_attempts,
        "replica": replica_name(job.worker) if job.worker else None,
        "submitted_at": sim.at(job.created),
        "updated_at": sim.at(job.updated),
        "error": _error(job.last_error),
    }
    if detail:
        view["history"] = [{"at": sim.at(at), "event": event, "detail": text} for at, event, text in job.history]
    return view


def list_batches(req: Request) -> Reply:
    limit = req.int_param("limit", 50, 1, 500)
    status = req.query.get("status", [""])[-1]
    if status and status not in SIM_STATES:
        raise HttpError(400, f"status must be one of {', '.join(SIM_STATES)}, got {status!r}")
    jobs = req.sim.jobs(SIM_STATES[status] if status else None)
    return 200, {"server_time": req.sim.now, "total": len(jobs), "batches": [batch_view(req.sim, job) for job in jobs[:limit]]}


def get_batch(req: Request) -> Reply:
    wanted = req.match["batch_id"]
    job = req.sim.find_job("job-" + wanted.removeprefix("batch-")) if wanted.startswith("batch-") else None
    if job is None:
        raise HttpError(404, f"no batch {wanted!r}")
    return 200, {"server_time": req.sim.now, "batch": batch_view(req.sim, job, detail=True)}


def replica_name(worker_id: str) -> str:
    return "document-api-" + worker_id.removeprefix("w-")


def list_replicas(req: Request) -> Reply:
    state = _state(req)
    sim = req.sim
    replicas = [
        {
            "name": replica_name(w.id),
            "status": REPLICA_STATUS[w.state],
            "last_seen_at": sim.at(w.last_heartbeat),
            "batch_id": batch_id(w.job.id) if w.job else None,
            "model_version": state.model_version,
            "started_at": sim.at(w.started),
            "batches_done": w.jobs_done,
        }
        for w in sim.workers
    ]
    return 200, {"server_time": sim.now, "replicas": replicas}


# -- failed batches: newest first, cursor paging, filter by error code ----------------------


def _cursor(before: int, seen: int) -> str:
    return base64.urlsafe_b64encode(f"{before}:{seen}".encode()).decode().rstrip("=")


def _read_cursor(raw: str) -> tuple[int, int]:
    """(index the page starts below, matches already handed out)."""
    try:
        before, seen = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode().split(":")
        return int(before), int(seen)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise HttpError(400, "cursor is not one this API gave out; start again without it") from None


def _failure_view(entry: dict[str, Any]) -> dict[str, Any]:
    code, message = ERRORS.get(entry["error_class"], (entry["error_class"], entry["message"]))
    batch = batch_id(entry["job_id"])
    return {
        "failure_id": failure_id(entry["id"]),
        "batch_id": batch,
        "error": {"code": code, "message": message},
        "attempts": entry["attempts"],
        "first_failed_at": entry["first_failed_at"],
        "failed_at": entry["last_failed_at"],
        "batch": {
            "tenant": entry["payload"].get("tenant"),
            "documents": _documents(batch),
            "kind": DOCUMENT_KINDS[_documents(batch) % len(DOCUMENT_KINDS)],
            "source": f"s3://documents/inbox/{batch}/",
        },
    }


def list_failed(req: Request) -> Reply:
    """A keyset cursor (entries below an index), so requeues and new failures between two
    pages neither repeat nor skip an entry."""
    limit = req.int_param("limit", 50, 1, 200)
    code = req.query.get("error", [""])[-1]
    queue = req.sim.dead_letters
    by_error = {ERRORS.get(name, (name,))[0]: count for name, count in queue.error_classes().items()}
    total = by_error.get(code, 0) if code else len(queue)
    raw = req.query.get("cursor", [""])[-1]
    if raw:
        before, seen = _read_cursor(raw)
    else:
        newest = queue.page(0, 1)
        before, seen = (queue.index_of(newest[0]["id"]) + 1 if newest else 0), 0
    wanted = SIM_CLASSES.get(code, code)
    items: list[dict[str, Any]] = []
    index = before - 1
    # Stop once every match is handed out: a rare code never walks a million entries.
    while index >= 0 and len(items) < limit and seen + len(items) < total:
        if queue.index_of(f"dlq-{index + 1:07d}") is not None:
            entry = queue.entry(index)
            if not code or entry["error_class"] == wanted:
                items.append(entry)
        index -= 1
    more = bool(items) and seen + len(items) < total and index >= 0
    return 200, {
        "server_time": req.sim.now,
        "total": total,
        "by_error": by_error,
        "failures": [_failure_view(entry) for entry in items],
        "next_cursor": _cursor(index + 1, seen + len(items)) if more else None,
    }


def requeue_failed(req: Request) -> Reply:
    wanted = req.json().get("failure_ids")
    if not isinstance(wanted, list) or not all(isinstance(item, str) for item in wanted):
        raise HttpError(400, "failure_ids must be a list of failure ids")
    if len(wanted) > operations.MAX_BATCH:
        raise HttpError(400, f"at most {operations.MAX_BATCH} failure ids per request, got {len(wanted)}")
    requeued, missing = [], []
    for failure in wanted:
        try:
            operations.replay_dead_letter(req.sim, letter_id(failure), req.actor)
            requeued.append(failure)
        except LookupError:
            missing.append(failure)
    return 200, {"requeued": requeued, "missing": missing}


def requeue_one(req: Request) -> Reply:
    status, reply = mutation(operations.replay_dead_letter, lambda r: letter_id(r.match["failure_id"]))(req)
    return status, {"failure_id": req.match["failure_id"], "batch_id": batch_id(reply["job_id"])}


# -- OCR engine -------------------------------------------------------------------------------


def set_ocr_engine(req: Request) -> Reply:
    mode = req.json().get("engine")
    if mode not in OCR_ENGINES:
        raise HttpError(400, f"engine must be one of {', '.join(OCR_ENGINES)}, got {mode!r}")
    state: DocumentApiState = req.state
    previous, state.ocr_mode = state.ocr_mode, mode
    if mode == "fallback":
        req.sim.mitigated[INVALID_INPUT[0]] = FALLBACK_READS
    else:
        req.sim.mitigated.pop(INVALID_INPUT[0], None)
    req.sim.record(req.actor, "ocr.engine", "ocr", f"OCR engine {OCR_ENGINES[previous]} → {OCR_ENGINES[mode]}")
    return 200, {"mode": mode, "engine": OCR_ENGINES[mode], "previous": previous}


ROUTES: list[Route] = [
    ("GET", re.compile(r"/v1/health"), health),
    ("GET", re.compile(r"/v1/stats"), stats),
    ("GET", re.compile(r"/metrics"), metrics),
    ("GET", re.compile(r"/v1/batches"), list_batches),
    ("GET", re.compile(r"/v1/batches/failed"), list_failed),
    ("POST", re.compile(r"/v1/batches/failed/requeue"), requeue_failed),
    ("POST", re.compile(r"/v1/batches/failed/(?P<failure_id>[^/]+)/requeue"), requeue_one),
    ("GET", re.compile(r"/v1/batches/(?P<batch_id>[^/]+)"), get_batch),
    ("GET", re.compile(r"/v1/replicas"), list_replicas),
    ("PUT", re.compile(r"/v1/ocr/engine"), set_ocr_engine),
]
