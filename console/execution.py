"""Running a confirmed plan: the read-only gate, the audit trail, idempotency and batches.

This layer is the one that refuses, not the UI: a guarded action needs an `Intent` made
by `confirm()` with the exact phrase, and `run()` checks the read-only lock again before
every request. One intent has one Idempotency-Key (a UUID) that every retry reuses; a
batch's chunks get keys derived from it, so a retried chunk is recognised too. A batch is
sent in chunks at a bounded rate, can be cancelled between chunks, and reports which
targets were done and which were not.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from console.actions import ExecCall, HttpCall, Plan, find_action, plan_action
from console.audit import AuditLog, Operator
from console.config import Config, token_env_names
from console.policy import ReadOnlyPolicy
from console.sources.http import http_client, transport_reason

RETRY_STATUSES = (502, 503, 504)
OUTPUT_KEPT = 2000  # characters of a command's output kept for the result


class ActionRefused(Exception):
    """The action layer will not send this (read-only, unconfirmed, already running)."""


class WrongPhrase(ActionRefused):
    pass


@dataclass(frozen=True)
class Intent:
    plan: Plan
    key: str
    """The Idempotency-Key: one per confirmed intent, reused by every retry."""
    typed: str


@dataclass
class CallResult:
    targets: tuple[str, ...]
    ok: bool
    status: int | None = None
    """HTTP status, or the command's exit code."""
    error: str = ""
    attempts: int = 0
    body: Any = None


@dataclass
class Outcome:
    intent: Intent
    results: list[CallResult] = field(default_factory=list)
    cancelled: bool = False
    refused: str = ""
    duration_s: float = 0.0

    @property
    def done(self) -> list[str]:
        return [t for r in self.results if r.ok for t in r.targets]

    @property
    def not_done(self) -> list[str]:
        done = set(self.done)
        return [t for t in self.intent.plan.targets if t not in done]

    @property
    def ok(self) -> bool:
        return bool(self.results) and all(r.ok for r in self.results) and not self.cancelled and not self.refused

    def summary(self) -> str:
        plan = self.intent.plan
        if self.refused:
            return f"{plan.action.title}: not sent ({self.refused})"
        if plan.action.batch:
            text = f"{plan.action.title}: {len(self.done):,} of {plan.count:,} done, {len(self.not_done):,} not done"
            failed = next((r for r in self.results if not r.ok), None)
            return text + (" (cancelled)" if self.cancelled else "") + (f"; {failed.error}" if failed else "")
        if not self.results:
            return f"{plan.action.title}: nothing sent" + (" (cancelled)" if self.cancelled else "")
        last = self.results[-1]
        if last.ok:
            return f"{plan.action.title}: done (status {last.status})"
        return f"{plan.action.title}: FAILED ({last.error or f'status {last.status}'})"


def chunk_key(key: str, index: int, chunks: int) -> str:
    return key if chunks == 1 else str(uuid.uuid5(uuid.UUID(key), f"chunk-{index}"))


class Executor:
    def __init__(
        self,
        config: Config,
        policy: ReadOnlyPolicy,
        audit: AuditLog,
        operator: Operator,
        token: str | None = None,
        client: httpx.AsyncClient | None = None,
        environ: dict[str, str] | None = None,
    ):
        self.config = config
        self.policy = policy
        self.audit = audit
        self.operator = operator
        self._token = token
        self._client = client or http_client(token)
        self._environ = dict(os.environ if environ is None else environ)
        self.in_flight: set[str] = set()
        """Action + targets now being sent: the same thing cannot be started twice at once."""

    async def aclose(self) -> None:
        await self._client.aclose()

    # -- before anything is sent ---------------------------------------------------------

    def plan(self, name: str, targets: tuple[str, ...] | list[str] = (), values: dict[str, str] | None = None, meta=None) -> Plan:
        policy = self.config.policy
        return plan_action(
            find_action(self.config.actions, name),
            self.config.api.base_url,
            self.config.environment,
            targets,
            values,
            chunk_size=policy.batch_chunk,
            batch_max=policy.batch_max,
            meta=meta,
            config_vars=self.config.vars,
        )

    def refusal(self, plan: Plan) -> str:
        """Why `plan` may not be sent now ("" when it may)."""
        if plan.action.safety == "guarded":
            state = self.policy.state()
            if state.read_only:
                return "read-only: " + ", ".join(state.reasons)
        if self._flight_key(plan) in self.in_flight:
            return "already in flight"
        return ""

    def recent(self, plan: Plan) -> dict[str, Any] | None:
        """Who did the same action on one of these targets lately (from the audit log)."""
        window = self.config.policy.repeat_warning_s
        return self.audit.last_intent(plan.action.name, plan.targets, window) if window else None

    def confirm(self, plan: Plan, typed: str) -> Intent:
        """An intent with a fresh Idempotency-Key, only for the exact phrase."""
        if plan.action.safety == "guarded" and typed.strip() != plan.phrase:
            raise WrongPhrase(f"the phrase does not match; type {plan.phrase!r} exactly")
        return Intent(plan, str(uuid.uuid4()), typed.strip())

    # -- sending -------------------------------------------------------------------------

    async def run(
        self,
        intent: Intent,
        progress: Callable[[int, int], None] | None = None,
        cancel: asyncio.Event | None = None,
    ) -> Outcome:
        plan = intent.plan
        if plan.action.safety == "guarded" and intent.typed != plan.phrase:
            raise WrongPhrase("this intent was not confirmed with the action's phrase")
        refusal = self.refusal(plan)
        if refusal:
            self._audit("refused", intent, reason=refusal)
            raise ActionRefused(refusal)
        flight = self._flight_key(plan)
        self.in_flight.add(flight)
        outcome = Outcome(intent)
        started = time.monotonic()
        mode = self.policy.state().mode
        self._audit("intent", intent, mode=mode)
        try:
            await self._send_chunks(intent, outcome, progress, cancel)
        finally:
            outcome.duration_s = time.monotonic() - started
            self.in_flight.discard(flight)
            self._audit_result(outcome)
            self._on_timeline(outcome)
        return outcome

    def _on_timeline(self, outcome: Outcome) -> None:
        """What was done during an incident belongs in its timeline too."""
        incident, store = self.policy.incident, self.policy.store
        if incident is None or store is None or not incident.is_open:
            return
        try:
            store.add_event(incident.id, str(self.operator), "action", outcome.summary())
        except Exception:  # the audit log already holds the result; the timeline is a convenience
            pass

    async def _send_chunks(
        self,
        intent: Intent,
        outcome: Outcome,
        progress: Callable[[int, int], None] | None,
        cancel: asyncio.Event | None,
    ) -> None:
        plan = intent.plan
        rate = self.config.policy.batch_rate_per_s
        sent = 0
        began = time.monotonic()
        for index, (call, chunk) in enumerate(zip(plan.calls, plan.chunks)):
            if cancel is not None and cancel.is_set():
                outcome.cancelled = True
                return
            if plan.action.safety == "guarded" and self.policy.state().read_only:
                outcome.refused = "read-only came back during the batch"
                return
            if index:  # bounded rate: chunk n starts no sooner than its share of the budget
                wait = began + sent / rate - time.monotonic()
                if wait > 0:
                    try:
                        await asyncio.wait_for(cancel.wait(), wait) if cancel else await asyncio.sleep(wait)
                    except asyncio.TimeoutError:
                        pass
                    if cancel is not None and cancel.is_set():
                        outcome.cancelled = True
                        return
            key = chunk_key(intent.key, index, len(plan.calls))
            result = await (self._http(call, key) if isinstance(call, HttpCall) else self._exec(call, key))
            result.targets = chunk
            outcome.results.append(result)
            sent += max(1, len(chunk))
            if progress is not None:
                progress(len(outcome.done), plan.count)
            if not result.ok and not plan.action.batch:
                return

    async def _http(self, call: HttpCall, key: str) -> CallResult:
        timeout = self.config.policy.action_timeout_s
        headers = {"Idempotency-Key": key, "X-Opsconsole-Operator": str(self.operator)}
        result = CallResult((), ok=False)
        for attempt in range(1 + self.config.policy.retries):
            result.attempts = attempt + 1
            try:
                response = await self._client.request(
                    call.method, call.url, json=call.body, headers=headers, timeout=timeout
                )
            except httpx.HTTPError as exc:
                result.status, result.error = None, transport_reason(exc, timeout)
                continue  # the same key again: the backend applies it at most once
            result.status = response.status_code
            result.ok = response.status_code < 400
            try:
                result.body = response.json()
            except ValueError:
                result.body = response.text[:OUTPUT_KEPT]
            result.error = "" if result.ok else self._error_text(result.body, response.status_code)
            if response.status_code not in RETRY_STATUSES:
                break
        return result

    @staticmethod
    def _error_text(body: Any, status: int) -> str:
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            return body["error"][:300]
        return f"HTTP {status}"

    async def _exec(self, call: ExecCall, key: str) -> CallResult:
        secrets = token_env_names(self.config)  # no command inherits a token it was not given
        env = {k: v for k, v in self._environ.items() if k not in secrets}
        env["OPSCONSOLE_IDEMPOTENCY_KEY"] = key
        result = CallResult((), ok=False, attempts=1)
        try:
            process = await asyncio.create_subprocess_exec(
                *call.argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                env=env,
            )
        except OSError as exc:
            result.error = f"cannot run {call.argv[0]}: {exc.strerror or exc}"
            return result
        try:
            output, _ = await asyncio.wait_for(process.communicate(), self.config.policy.action_timeout_s)
        except asyncio.TimeoutError:
            process.kill()
            await process.wait()
            result.error = f"timed out after {self.config.policy.action_timeout_s:g}s (killed)"
            result.status = process.returncode
            return result
        result.status = process.returncode
        result.ok = process.returncode == 0
        result.body = output.decode("utf-8", "replace")[-OUTPUT_KEPT:]
        result.error = "" if result.ok else f"exit code {process.returncode}"
        return result

    # -- safe actions --------------------------------------------------------------------

    async def run_safe(self, plan: Plan) -> Outcome:
        """A read (inspect, view): allowed in read-only mode, no confirmation, not audited."""
        if plan.action.safety != "safe":
            raise ActionRefused(f"{plan.action.title} is guarded: it needs a confirmed intent")
        intent = Intent(plan, str(uuid.uuid4()), "")
        outcome = Outcome(intent)
        for call in plan.calls:
            result = await (self._http(call, intent.key) if isinstance(call, HttpCall) else self._exec(call, intent.key))
            result.targets = plan.targets
            outcome.results.append(result)
        return outcome

    # -- records -------------------------------------------------------------------------

    @staticmethod
    def _flight_key(plan: Plan) -> str:
        return plan.action.name + "\0" + "\0".join(plan.targets)

    def _audit(self, kind: str, intent: Intent, **extra: Any) -> None:
        plan = intent.plan
        self.audit.append(
            {
                "type": kind,
                "intent": intent.key,
                "idempotency_key": intent.key,
                "action": plan.action.name,
                "title": plan.action.title,
                "targets": list(plan.targets),
                "count": plan.count,
                "calls": [c.describe() for c in plan.calls[:3]] + ([f"... {len(plan.calls) - 3} more chunks"] if len(plan.calls) > 3 else []),
                "selection": dict(plan.meta),
                "operator": self.operator.as_record(),
                "host": self.operator.host,
                "environment": plan.environment,
                "incident": self.policy.incident.id if self.policy.incident else "",
                **extra,
            }
        )

    def _audit_result(self, outcome: Outcome) -> None:
        last = outcome.results[-1] if outcome.results else None
        self.audit.append(
            {
                "type": "result",
                "intent": outcome.intent.key,
                "idempotency_key": outcome.intent.key,
                "action": outcome.intent.plan.action.name,
                "ok": outcome.ok,
                "status": last.status if last else None,
                "error": next((r.error for r in outcome.results if r.error), "") or outcome.refused,
                "attempts": sum(r.attempts for r in outcome.results),
                "duration_ms": round(outcome.duration_s * 1000, 1),
                "done": len(outcome.done),
                "not_done": outcome.not_done[:1000],
                "cancelled": outcome.cancelled,
                "operator": self.operator.as_record(),
                "host": self.operator.host,
                "environment": outcome.intent.plan.environment,
            }
        )
