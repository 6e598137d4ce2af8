"""Evidence bundles: what the backends said and what the console recorded, at one moment,
saved into a directory of their own with a manifest of SHA-256 sums.

    evidence-<environment>-<UTC yyyymmddThhmmssZ>/      mode 0700, files 0600
        health-<service>.json (one per [[api.health]]) jobs.json workers.json leases.json
        dead-letters.json (the lists the config has; the others are "not_configured" in the
        manifest) backend-audit.json
        metrics.txt (scrape) or metrics-<signal>.json (Prometheus), alerts.json, signals.json
        json-<path>.json (each path the `json` signals read)
        console-audit.jsonl incident.json timeline.json timeline.txt
        <source>.error.txt (and <source>.body, what it sent) for a source that failed
        manifest.json SHA256SUMS                          `sha256sum -c SHA256SUMS` verifies

Fetched bodies are stored as the backend sent them (hostile bytes included: they are
evidence) after redaction. Nothing is ever written over: a second bundle in the same
second gets its own directory. Each bundle written is recorded in the console's audit log
and on the incident's timeline, with the SHA-256 of its manifest, so a later reader
knows when evidence was taken and can check that a bundle is the one that was.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import sqlite3
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from console.audit import AuditLog, Operator, audit_path, current_operator, iso_time
from console.config import Config
from console.environments import every_token
from console.evidence_sources import Answer, fetch_all, not_configured, signal_view
from console.incident import Incident, IncidentStore, store_path
from console.incident_cli import describe
from console.redaction import REDACTED, SECRET_KEY, redact, redact_body, redact_text
from console.text import plain

NO_INCIDENT_WINDOW_S = 3600.0
MANIFEST, SUMS = "manifest.json", "SHA256SUMS"


class EvidenceError(Exception):
    """Nothing usable could be written (the directory cannot be made, the manifest failed)."""


@dataclass(frozen=True)
class Piece:
    """One file of the bundle and where its content came from."""

    name: str
    what: str
    data: bytes
    source: str = ""
    """For a fetched file: the URL asked (without credentials)."""
    fetched_at: float | None = None
    status: int | None = None
    error: str = ""
    redaction: str = ""


@dataclass(frozen=True)
class Failure:
    source: str
    url: str
    error: str


@dataclass
class Bundle:
    path: Path
    files: list[dict[str, Any]] = field(default_factory=list)
    """The manifest's entries: name, size, sha256, what, source, fetched_at, status, error."""
    failures: list[Failure] = field(default_factory=list)
    window: str = ""
    """Which stretch of the console's audit log the bundle holds, and why."""
    manifest_sha256: str = ""
    not_recorded: str = ""
    """Why the bundle is not in the audit log or on the timeline ("" when it is)."""

    @property
    def size(self) -> int:
        return sum(entry["size"] for entry in self.files)

    def summary(self) -> str:
        """One line for a person (the CLI, a notification), safe for a terminal."""
        size = f"{self.size / 1024:.1f} KB" if self.size < 1024 * 1024 else f"{self.size / 1024 / 1024:.1f} MB"
        failed = f"; failed: {', '.join(failure.source for failure in self.failures)}" if self.failures else ""
        return plain(f"{self.path} ({len(self.files)} files, {size}{failed})")


# -- what goes in ---------------------------------------------------------------------------


def safe_url(url: str, secrets: list[str]) -> str:
    """`url` without user info, secret-named query values or known secrets."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    pairs = [pair.split("=", 1) for pair in parts.query.split("&")] if parts.query else []
    query = "&".join(f"{p[0]}={REDACTED}" if len(p) == 2 and SECRET_KEY.search(p[0]) else "=".join(p) for p in pairs)
    return redact_text(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)), secrets)


def _json(value: Any) -> bytes:
    # ASCII: control characters and lone surrogates from a backend stay escaped, never raw.
    return (json.dumps(value, indent=2, default=str) + "\n").encode()


def fetched_pieces(answers: list[Answer], secrets: list[str]) -> tuple[list[Piece], list[Failure]]:
    pieces, failures = [], []
    for answer in answers:
        request = answer.request
        url = safe_url(request.url, secrets)
        body, redaction = redact_body(answer.body, secrets)
        common = {"source": url, "fetched_at": answer.fetched_at, "status": answer.status}
        if not answer.error:
            pieces.append(Piece(request.name + request.suffix, request.what, body, redaction=redaction, **common))
            continue
        error = redact_text(answer.error, secrets)
        failures.append(Failure(request.name, url, error))
        status = f"HTTP {answer.status}" if answer.status is not None else "no answer"
        report = (
            f"source: {request.name} ({request.what})\nurl: {plain(url)}\nfetched at: {iso_time(answer.fetched_at)}\n"
            f"status: {status}\nerror: {plain(error)}\n"
            + (f"what it sent: {request.name}.body ({len(body)} bytes, as sent)\n" if body else "")
        )
        pieces.append(Piece(f"{request.name}.error.txt", f"why {request.name} is missing", report.encode(), error=error, **common))
        if body:
            what = f"what {request.name} sent with its error, as sent"
            pieces.append(Piece(f"{request.name}.body", what, body, error=error, redaction=redaction, **common))
    return pieces, failures


@dataclass(frozen=True)
class Window:
    start: float
    end: float
    basis: str


def window_for(incident: Incident | None, now: float) -> Window:
    """The stretch of the console's audit log a bundle holds: the incident's, or the last hour."""
    if incident is None:
        return Window(now - NO_INCIDENT_WINDOW_S, now, "the last hour (no incident)")
    if incident.ended_at is None:
        return Window(incident.started_at, now, f"incident {incident.id}, from its start to now (still open)")
    return Window(incident.started_at, incident.ended_at, f"incident {incident.id}, from its start to its end")


def local_pieces(config: Config, store: IncidentStore, incident: Incident | None, window: Window, secrets: list[str]) -> list[Piece]:
    span = f"{iso_time(window.start)} to {iso_time(window.end)}: {window.basis}"
    records = AuditLog(audit_path(config.audit.path)).records_between(window.start, window.end)
    lines = b"".join(json.dumps(redact(record, secrets)).encode() + b"\n" for record in records)
    pieces = [Piece("console-audit.jsonl", f"this console's audit log, {len(records)} records from {span}", lines)]
    if incident is None:
        return pieces
    events = store.timeline(incident.id, limit=1_000_000)
    record = {
        **asdict(incident),
        "started": iso_time(incident.started_at),
        "ended": iso_time(incident.ended_at) if incident.ended_at else None,
        "checklist": [asdict(tick) for tick in store.checklist(incident.id)],
    }
    timeline = [{"time": iso_time(e.at), **asdict(e)} for e in events]
    text = redact_text(describe(store, incident, events=len(events)), secrets) + "\n"
    return pieces + [
        Piece("incident.json", f"the incident record {incident.id}, with its checklist ticks", _json(redact(record, secrets))),
        Piece("timeline.json", f"the timeline of {incident.id}, {len(events)} events", _json(redact(timeline, secrets))),
        Piece("timeline.txt", "the incident and its timeline, to read", text.encode("utf-8", "backslashreplace")),
    ]


# -- writing --------------------------------------------------------------------------------


def _new_directory(parent: Path, stem: str) -> Path:
    """A directory no one has used: `stem`, or `stem-2`, `stem-3`... never an existing one."""
    try:
        parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        for number in range(1, 1000):
            path = parent / (stem if number == 1 else f"{stem}-{number}")
            try:
                path.mkdir(mode=0o700)
            except FileExistsError:
                continue
            path.chmod(0o700)  # whatever the umask says
            return path
    except OSError as exc:
        raise EvidenceError(f"cannot create a bundle in {parent}: {exc.strerror or exc}") from None
    raise EvidenceError(f"{parent} already holds 999 bundles named {stem}")


def _write(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(fd, 0o600)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def _entry(piece: Piece) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": piece.name,
        "size": len(piece.data),
        "sha256": hashlib.sha256(piece.data).hexdigest(),
        "what": piece.what,
    }
    if piece.source:
        entry.update(source=piece.source, fetched_at=iso_time(piece.fetched_at or 0), status=piece.status)
    if piece.error:
        entry["error"] = piece.error
    if piece.redaction:
        entry["redaction"] = piece.redaction
    return entry


def write_bundle(parent: Path, stem: str, pieces: list[Piece], about: dict[str, Any], failures: list[Failure]) -> Bundle:
    path = _new_directory(parent, stem)
    bundle = Bundle(path, failures=list(failures))
    for piece in pieces:
        try:
            _write(path / piece.name, piece.data)
        except OSError as exc:
            bundle.failures.append(Failure(piece.name, "", f"not written: {exc.strerror or exc}"))
            continue
        bundle.files.append(_entry(piece))
    manifest = {
        **about,
        "failed": [asdict(failure) for failure in bundle.failures],
        "files": bundle.files,
        "verify": f"cd into this directory and run: sha256sum -c {SUMS} (it covers {MANIFEST} too)",
    }
    data = _json(manifest)
    bundle.manifest_sha256 = hashlib.sha256(data).hexdigest()
    sums = "".join(f"{entry['sha256']}  {entry['name']}\n" for entry in bundle.files)
    sums += f"{bundle.manifest_sha256}  {MANIFEST}\n"
    try:
        _write(path / MANIFEST, data)
        _write(path / SUMS, sums.encode())
        fd = os.open(path, os.O_RDONLY)  # the directory's entries are durable too
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise EvidenceError(f"{path}: the manifest could not be written: {exc.strerror or exc}") from None
    return bundle


# -- the whole thing ------------------------------------------------------------------------


def console_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("opsconsole")
    except PackageNotFoundError:
        return "unknown"


def bundle_stem(environment: str, now: float) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", environment).strip(".") or "env"
    return f"evidence-{safe}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(now))}"


def default_evidence_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("opsconsole")) / "evidence"


def make_bundle(
    config: Config,
    parent: Path,
    incident_id: str | None = None,
    clock: Callable[[], float] = time.time,
    environ: dict[str, str] | None = None,
) -> Bundle:
    """Fetch every source at once, then write the bundle under `parent`.

    `incident_id` None means the current open incident, if any. Raises IncidentError for
    an unknown incident and EvidenceError when nothing could be written; a source that
    fails is only recorded."""
    secrets = every_token(config, environ)  # any environment's token, wherever it was pasted
    store = IncidentStore(store_path(config.incident.state_path), clock=clock)
    incident = store.get(incident_id) if incident_id else store.current()
    now = clock()
    answers = asyncio.run(fetch_all(config, clock, environ))
    pieces, failures = fetched_pieces(answers, secrets)
    view = {"taken_at": iso_time(now), "source": config.metrics.source, "signals": signal_view(config, answers)}
    pieces.append(Piece("signals.json", "each signal's value as the console reads it from this snapshot", _json(redact(view, secrets))))
    window = window_for(incident, clock())
    pieces += local_pieces(config, store, incident, window, secrets)
    operator = current_operator(environ)
    about = {
        "bundle": "opsconsole evidence",
        "created_at": iso_time(now),
        "environment": config.environment,
        "made_by": {**operator.as_record(), "host": operator.host},
        "console_version": console_version(),
        "api": safe_url(config.api.base_url, secrets),
        "incident": incident.id if incident else None,
        "not_configured": not_configured(config),
        "console_audit_window": {"from": iso_time(window.start), "to": iso_time(window.end), "basis": window.basis},
    }
    bundle = write_bundle(parent, bundle_stem(config.environment, now), pieces, about, failures)
    bundle.window = window.basis
    try:
        record_bundle(bundle, config, store, incident, operator, secrets, clock)
    except (OSError, sqlite3.Error) as exc:  # a full disk or a locked state file: the bundle stands
        bundle.not_recorded = redact_text(str(exc), secrets)
    return bundle


def record_bundle(
    bundle: Bundle, config: Config, store: IncidentStore, incident: Incident | None, operator: Operator,
    secrets: list[str], clock: Callable[[], float],
) -> None:
    """The bundle in the console's audit log and, with an incident, on its timeline: where it
    is and the manifest's SHA-256 (the manifest holds every other file's sum)."""
    text = redact_text(f"{bundle.path}, {MANIFEST} sha256 {bundle.manifest_sha256}", secrets)
    if incident is not None:
        store.add_event(incident.id, str(operator), "evidence", text)
    AuditLog(audit_path(config.audit.path), secrets, clock).append(
        {
            "type": "evidence",
            "incident": incident.id if incident else None,
        "not_configured": not_configured(config),
            "text": text,
            "path": str(bundle.path),
            "manifest_sha256": bundle.manifest_sha256,
            "failed": [failure.source for failure in bundle.failures],
            "operator": operator.as_record(),
            "host": operator.host,
            "environment": config.environment,
        }
    )
