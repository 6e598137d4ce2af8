"""Guarded actions against the real demo backend, with no UI: the action layer itself refuses,
confirms, sends once, audits, and batches."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
import threading
import time
from pathlib import Path

import httpx
import pytest

from console.audit import AuditLog, Operator
from console.config_actions import ActionConfig
from console.demo.server import DemoServer
from console.execution import ActionRefused, Executor, WrongPhrase
from console.incident import IncidentStore
from console.policy import PolicyError, ReadOnlyPolicy
from tests.conftest import config_for

TOKEN = "s3cret-token-value-42"
ALICE = Operator("alice", "10.0.0.7", "bastion-1")


class Clock:
    def __init__(self, start: float = 1_800_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now


def parts(tmp_path: Path, base_url: str, *, cli_read_only=False, config_read_only=False, clock=time.time, token=None, **config_overrides):
    config = config_for(base_url, **config_overrides)
    audit = AuditLog(tmp_path / "audit.jsonl", secrets=[token or ""], clock=clock)
    store = IncidentStore(tmp_path / "state.db", clock=clock)
    policy = ReadOnlyPolicy(config.policy, config_read_only, cli_read_only, ALICE, audit, store, clock)
    executor = Executor(config, policy, audit, ALICE, token=token)
    return config, executor, policy, audit, store


def newest_dead_letters(server: DemoServer, n: int, **params) -> list[str]:
    page = httpx.get(server.url + "/v1/dlq", params={"limit": n, **params}, timeout=5).json()
    return [item["id"] for item in page["items"]]


def audit_records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def dlq_server():
    server = DemoServer(port=0, speed=0, seed=7, warmup_s=30, dlq_preload=2000).start()
    try:
        yield server
    finally:
        server.stop()


async def test_read_only_refuses_in_the_action_layer(tmp_path, dlq_server):
    _, executor, policy, audit, store = parts(tmp_path, dlq_server.url, cli_read_only=True)
    target = newest_dead_letters(dlq_server, 1)[0]
    plan = executor.plan("replay-dead-letter", [target])
    intent = executor.confirm(plan, target)
    with pytest.raises(ActionRefused, match="read-only: --read-only"):
        await executor.run(intent)
    with pytest.raises(PolicyError, match="cannot be unlocked"):
        policy.break_glass("provider is back, replaying the backlog")
    assert dlq_server.mutations == []
    assert [r["type"] for r in audit_records(audit.path)] == ["refused"]

    # A safe read still works while read-only.
    job = httpx.get(dlq_server.url + "/v1/jobs?limit=1", timeout=5).json()["jobs"][0]["id"]
    inspected = await executor.run_safe(executor.plan("inspect-job", [job]))
    assert inspected.ok and inspected.results[0].body["job"]["id"] == job
    await executor.aclose()


async def test_sev1_incident_makes_it_read_only_until_resolved(tmp_path, dlq_server):
    _, executor, policy, _, store = parts(tmp_path, dlq_server.url)
    incident = store.declare("Queue stalled", "SEV-2", "", "bob")
    policy.incident_changed(store.current())
    assert not policy.state().read_only
    store.set_severity(incident.id, "SEV-1", "bob")
    policy.incident_changed(store.current())
    assert policy.state().reasons == (f"SEV-1 {incident.id}",)
    plan = executor.plan("pause-intake")
    with pytest.raises(ActionRefused, match="SEV-1"):
        await executor.run(executor.confirm(plan, "pause intake"))
    assert dlq_server.mutations == []
    store.resolve(incident.id, "bob")
    policy.incident_changed(store.current())
    outcome = await executor.run(executor.confirm(plan, "pause intake"))
    assert outcome.ok and dlq_server.sim.intake_paused
    await executor.aclose()


async def test_wrong_phrase_sends_nothing(tmp_path, dlq_server):
    _, executor, _, audit, _ = parts(tmp_path, dlq_server.url)
    target = newest_dead_letters(dlq_server, 1)[0]
    plan = executor.plan("replay-dead-letter", [target])
    assert plan.phrase == target
    for typed in ("", "yes", target.upper(), target[:-1]):
        with pytest.raises(WrongPhrase):
            executor.confirm(plan, typed)
    # An intent forged without the phrase is refused by run() itself.
    from console.execution import Intent

    with pytest.raises(WrongPhrase):
        await executor.run(Intent(plan, "0" * 32, "y"))
    assert dlq_server.mutations == []
    assert not audit.path.exists()
    await executor.aclose()


async def test_confirmed_replay_is_applied_once_even_when_started_twice(tmp_path, dlq_server):
    _, executor, _, audit, _ = parts(tmp_path, dlq_server.url, token=None)
    target = newest_dead_letters(dlq_server, 1)[0]
    plan = executor.plan("replay-dead-letter", [target])
    intent = executor.confirm(plan, target)
    first = asyncio.create_task(executor.run(intent))
    await asyncio.sleep(0)  # the first run has marked the action in flight
    with pytest.raises(ActionRefused, match="already in flight"):
        await executor.run(executor.confirm(plan, target))
    outcome = await first
    assert outcome.ok, outcome.summary()
    assert len(dlq_server.mutations) == 1
    assert target not in newest_dead_letters(dlq_server, 50)

    # Running the same intent again is a retry: same key, the backend answers from its record.
    again = await executor.run(intent)
    assert again.ok
    mutations = dlq_server.mutations
    assert [m["applied"] for m in mutations] == [True, False]
    assert {m["idempotency_key"] for m in mutations} == {intent.key}
    await executor.aclose()


class SlowFirstResponse:
    """A TCP proxy in front of the demo backend that holds the first response back for
    `delay` seconds: the request reaches the backend, the answer arrives too late."""

    def __init__(self, upstream: str, delay: float):
        host, port = upstream.removeprefix("http://").split(":")
        self.upstream = (host, int(port))
        self.delay = delay
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            upstream = socket.create_connection(self.upstream)
            delay = self.delay if self.connections == 1 else 0.0
            threading.Thread(target=self._pump, args=(client, upstream, 0.0), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, delay), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket, delay: float) -> None:
        try:
            while data := source.recv(65536):
                if delay:
                    time.sleep(delay)
                    delay = 0.0
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.listener.close()


async def test_retry_after_a_timeout_reuses_the_key_and_applies_once(tmp_path, dlq_server):
    proxy = SlowFirstResponse(dlq_server.url, delay=1.5)
    config, executor, _, audit, _ = parts(tmp_path, proxy.url)
    executor.config = config.model_copy(update={"policy": config.policy.model_copy(update={"action_timeout_s": 0.5})})
    target = newest_dead_letters(dlq_server, 1)[0]
    intent = executor.confirm(executor.plan("replay-dead-letter", [target]), target)
    outcome = await executor.run(intent)
    proxy.close()
    assert outcome.ok and outcome.results[0].attempts == 2, outcome.results
    mutations = dlq_server.mutations
    assert len(mutations) == 2 and [m["applied"] for m in mutations] == [True, False]
    assert {m["idempotency_key"] for m in mutations} == {intent.key}
    assert sum(1 for m in mutations if m["applied"]) == 1
    await executor.aclose()


async def test_audit_log_has_intent_then_result_and_never_the_token(tmp_path):
    server = DemoServer(port=0, speed=0, seed=7, warmup_s=30, token=TOKEN).start()
    try:
        _, executor, _, audit, _ = parts(tmp_path, server.url, token=TOKEN)
        outcome = await executor.run(executor.confirm(executor.plan("set-concurrency", values={"value": "3"}), "limit 3"))
        assert outcome.ok, outcome.summary()
        assert server.sim.concurrency_limit == 3
        # Without the token the backend refuses (and records the attempt).
        refused = httpx.post(server.url + "/v1/intake/pause", timeout=5)
        assert refused.status_code == 401 and not server.sim.intake_paused
        audit.append({"type": "note", "text": f"header was Bearer {TOKEN}", "authorization": TOKEN})
    finally:
        server.stop()
    text = audit.path.read_text()
    assert TOKEN not in text
    records = audit_records(audit.path)
    intent, result = records[0], records[1]
    assert (intent["type"], result["type"]) == ("intent", "result")
    assert intent["idempotency_key"] == result["idempotency_key"] == intent["intent"]
    assert intent["operator"] == {"user": "alice", "client": "10.0.0.7"} and intent["host"] == "bastion-1"
    assert intent["environment"] == "demo" and intent["mode"] == "read-write"
    assert intent["calls"] == [f'PUT {server.url}/v1/limits/concurrency\n{{"limit": 3}}']
    assert result["status"] == 200 and result["ok"] and result["duration_ms"] >= 0
    assert stat.S_IMODE(audit.path.stat().st_mode) == 0o600
    await executor.aclose()


def test_an_intent_without_a_result_is_outcome_unknown(tmp_path):
    audit = AuditLog(tmp_path / "audit.jsonl")
    audit.append({"type": "intent", "intent": "k1", "action": "drain-worker", "targets": ["w-01"]})
    audit.append({"type": "result", "intent": "k1"})
    audit.append({"type": "intent", "intent": "k2", "action": "replay-job", "targets": ["job-000001"]})
    with open(audit.path, "ab") as torn:  # a crash mid-write leaves half a line
        torn.write(b'{"type": "inte')
    assert [r["intent"] for r in AuditLog(audit.path).unresolved()] == ["k2"]


async def test_same_action_on_same_target_within_a_minute_warns(tmp_path, dlq_server):
    clock = Clock(time.time())
    _, executor, _, _, _ = parts(tmp_path, dlq_server.url, clock=clock)
    plan = executor.plan("drain-worker", ["w-01"])
    assert executor.recent(plan) is None
    await executor.run(executor.confirm(plan, "drain w-01"))
    clock.now += 30
    again = executor.plan("drain-worker", ["w-01"])
    warning = executor.recent(again)
    assert warning["operator"]["user"] == "alice" and warning["at"]
    assert executor.recent(executor.plan("drain-worker", ["w-02"])) is None
    clock.now += 31
    assert executor.recent(again) is None
    await executor.aclose()


async def test_break_glass_unlocks_for_a_while_and_relocks_by_itself(tmp_path, dlq_server):
    clock = Clock()
    _, executor, policy, audit, store = parts(tmp_path, dlq_server.url, clock=clock)
    incident = store.declare("Everything is on fire", "SEV-1", "", "bob")
    policy.incident_changed(store.current())
    with pytest.raises(PolicyError, match="at least"):
        policy.break_glass("oops")
    until = policy.break_glass("replaying the provider backlog, agreed with IC")
    assert until == clock.now + 600 and policy.state().mode == "break-glass"
    outcome = await executor.run(executor.confirm(executor.plan("pause-intake"), "pause intake"))
    assert outcome.ok
    clock.now += 599
    assert not policy.state().read_only
    clock.now += 2
    with pytest.raises(ActionRefused, match="read-only"):
        await executor.run(executor.confirm(executor.plan("resume-intake"), "resume intake"))
    assert [m["path"] for m in dlq_server.mutations] == ["/v1/intake/pause"]
    kinds = [e.kind for e in store.timeline(incident.id)]
    assert kinds == ["declared", "break-glass", "action", "relocked"]
    assert "Pause intake: done (status 200)" in store.timeline(incident.id)[2].text
    assert "agreed with IC" in store.timeline(incident.id)[1].text
    records = audit_records(audit.path)
    assert [r["type"] for r in records] == ["break-glass", "intent", "result", "relocked", "refused"]
    assert records[0]["reason"] == "replaying the provider backlog, agreed with IC" and records[0]["until"]
    assert records[1]["mode"] == "break-glass"
    await executor.aclose()


async def test_batch_acts_on_the_exact_ids_in_chunks_and_can_be_cancelled(tmp_path, dlq_server):
    config, executor, _, audit, _ = parts(tmp_path, dlq_server.url)
    policy = config.policy.model_copy(update={"batch_chunk": 10, "batch_rate_per_s": 100.0})
    executor.config = config.model_copy(update={"policy": policy})
    ids = newest_dead_letters(dlq_server, 35, error_class="ProviderTimeout")
    plan = executor.plan("replay-dead-letters", ids, meta={"filter": "error_class=ProviderTimeout"})
    assert plan.count == 35 and plan.phrase == "replay 35" and len(plan.calls) == 4
    # Dead letters that arrive after confirmation are not part of the batch.
    dlq_server.sim.set_scenario("provider-outage")
    dlq_server.sim.advance(120)

    cancel = asyncio.Event()
    seen: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        seen.append((done, total))
        if done >= 20:
            cancel.set()

    outcome = await executor.run(executor.confirm(plan, "replay 35"), progress, cancel)
    assert outcome.cancelled and seen == [(10, 35), (20, 35)]
    assert outcome.done == ids[:20] and outcome.not_done == ids[20:]
    assert "20 of 35 done, 15 not done (cancelled)" in outcome.summary()
    sent = [json.loads(m["body"])["ids"] for m in dlq_server.mutations]
    assert sent == [ids[:10], ids[10:20]]
    # Two chunks of 10 at 100 targets/s: the second waited its turn.
    result = audit_records(audit.path)[-1]
    assert result["done"] == 20 and result["not_done"] == ids[20:] and result["cancelled"]
    await executor.aclose()


async def test_exec_action_runs_exactly_the_argv(tmp_path, dlq_server, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "argv.log"
    script = bin_dir / "systemctl"
    script.write_text(f'#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done > {log}\necho "key=$OPSCONSOLE_IDEMPOTENCY_KEY token=$OPSCONSOLE_TOKEN"\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("OPSCONSOLE_TOKEN", TOKEN)
    restart = ActionConfig(
        name="restart-worker",
        title="Restart worker",
        kind="exec",
        argv=["systemctl", "restart", "worker@{id}.service", "--reason={reason}"],
        params={"reason": {"pattern": r"[a-z ]{3,40}", "prompt": "Why"}},
        panel="workers",
        row="worker",
        confirm="restart {id}",
    )
    _, executor, _, audit, _ = parts(tmp_path, dlq_server.url, actions=[restart], token=TOKEN)
    executor._environ = dict(os.environ)
    plan = executor.plan("restart-worker", ["w-03"], {"reason": "stuck lease"})
    assert plan.calls[0].describe() == 'exec ["systemctl", "restart", "worker@w-03.service", "--reason=stuck lease"]'
    intent = executor.confirm(plan, "restart w-03")
    outcome = await executor.run(intent)
    assert outcome.ok, outcome.summary()
    assert log.read_text().splitlines() == ["restart", "worker@w-03.service", "--reason=stuck lease"]
    assert outcome.results[0].body.strip() == f"key={intent.key} token="  # the token is not handed on
    # Values that do not match their pattern never reach an argv.
    from console.actions import ActionError

    for bad_id, reason in (("-rf", "ok reason"), ("w-03; reboot", "ok reason"), ("w-03", "$(reboot)")):
        with pytest.raises(ActionError, match="does not match"):
            executor.plan("restart-worker", [bad_id], {"reason": reason})
    await executor.aclose()
