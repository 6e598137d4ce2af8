"""The console's own append-only audit log: JSON Lines, mode 0600, fsync-ed per record.

Every guarded action writes an `intent` record before anything is sent and a `result`
record after it. An intent without a result (the console crashed, the SSH session was
lost) is reported as "outcome unknown" on the next start. Secrets never reach the file:
known secret values and secret-looking keys are redacted before a record is written.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from console.redaction import redact

TAIL_BYTES = 4 * 1024 * 1024  # what is read back: recent history, not the whole file


@dataclass(frozen=True)
class Operator:
    """Who is at the keyboard: $USER, the SSH client address, and this host."""

    user: str
    client: str
    host: str

    def __str__(self) -> str:
        return f"{self.user}@{self.client}" if self.client else self.user

    def as_record(self) -> dict[str, str]:
        return {"user": self.user, "client": self.client}


def current_operator(environ: dict[str, str] | None = None) -> Operator:
    env = os.environ if environ is None else environ
    user = env.get("USER") or env.get("LOGNAME") or _login_name()
    # $SSH_CONNECTION is "client_ip client_port server_ip server_port".
    client = (env.get("SSH_CONNECTION") or "").split(" ")[0]
    return Operator(user, client, socket.gethostname())


def _login_name() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):
        return "unknown"


def iso_time(at: float) -> str:
    return datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class AuditLog:
    def __init__(self, path: Path, secrets: Iterable[str] = (), clock: Callable[[], float] = time.time):
        self.path = Path(path)
        self._secrets = tuple(s for s in secrets if s)
        self._clock = clock
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)

    def append(self, record: dict[str, Any]) -> dict[str, Any]:
        """Write one record durably and return it as written (redacted, with its time)."""
        now = self._clock()
        written = redact({"at": iso_time(now), "ts": now, **record}, self._secrets)
        line = (json.dumps(written, ensure_ascii=False, default=str) + "\n").encode()
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.fchmod(fd, 0o600)  # an existing file with looser permissions is tightened
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
        return written

    def records(self, tail_bytes: int = TAIL_BYTES) -> list[dict[str, Any]]:
        """The newest records (oldest first), skipping a torn or foreign line instead of failing."""
        try:
            with open(self.path, "rb") as file:
                size = file.seek(0, os.SEEK_END)
                file.seek(max(0, size - tail_bytes))
                data = file.read()
        except FileNotFoundError:
            return []
        lines = data.split(b"\n")
        if size > tail_bytes:
            lines = lines[1:]  # the first line was cut by the seek
        out = []
        for raw in lines:
            try:
                record = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue
            if isinstance(record, dict):
                out.append(record)
        return out

    def records_between(self, start: float, end: float) -> list[dict[str, Any]]:
        """Every record written from `start` to `end` (seconds since the epoch), oldest first.

        The whole file is read line by line: an incident's window may lie beyond the tail."""
        try:
            file = open(self.path, "rb")
        except FileNotFoundError:
            return []
        out = []
        with file:
            for raw in file:
                try:
                    record = json.loads(raw)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    continue
                if isinstance(record, dict) and isinstance(record.get("ts"), (int, float)) and start <= record["ts"] <= end:
                    out.append(record)
        return out

    def unresolved(self) -> list[dict[str, Any]]:
        """Intents with no result: the outcome is unknown (crash, lost session)."""
        records = self.records()
        finished = {r.get("intent") for r in records if r.get("type") == "result"}
        return [r for r in records if r.get("type") == "intent" and r.get("intent") not in finished]

    def last_intent(self, action: str, targets: Iterable[str], within_s: float) -> dict[str, Any] | None:
        """The newest intent of `action` on any of `targets` in the last `within_s` seconds."""
        wanted = set(targets)
        since = self._clock() - within_s
        for record in reversed(self.records()):
            if record.get("ts", 0) < since:
                break
            if record.get("type") == "intent" and record.get("action") == action:
                if wanted & set(record.get("targets") or []) or (not wanted and not record.get("targets")):
                    return record
        return None


def default_audit_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("opsconsole")) / "audit.jsonl"


def audit_path(configured: str) -> Path:
    return Path(configured).expanduser() if configured else default_audit_path()
