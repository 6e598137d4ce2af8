"""The incident timeline: store events and the audit log's actions merged in time order,
with actions run through the real executor against the demo backend."""

from __future__ import annotations

import json

from console.audit import AuditLog
from console.incident import IncidentStore
from console.incident_record import checklist_progress, read_record, read_timeline
from console.runbooks import load_runbooks
from tests.conftest import config_for
from tests.test_actions import Clock, parts

START = 1_800_000_000.0  # 2027-01-15T08:00:00Z


async def test_timeline_orders_events_and_audited_actions_once_each(tmp_path, demo_server):
    clock = Clock(START - 600)
    _, executor, policy, audit, store = parts(tmp_path, demo_server.url, clock=clock)
    # Before the incident: not part of it.
    await executor.run(executor.confirm(executor.plan("pause-intake"), "pause intake"))

    clock.now = START
    incident = store.declare("Queue stalled", "SEV-2", "", "bob")
    policy.incident_changed(store.current())
    clock.now += 60
    store.set_severity(incident.id, "SEV-1", "bob")
    clock.now += 60
    store.add_event(incident.id, "carol", "note", "provider says ETA 09:30")
    clock.now += 60
    store.tick(incident.id, "queue-backlog", "dispatch-stalled/3.1", "Pause intake", True, "carol")
    policy.incident_changed(store.get(incident.id))
    store.set_severity(incident.id, "SEV-2", "bob")  # lift read-only so the drain may be sent
    policy.incident_changed(store.current())
    clock.now += 60
    drained = await executor.run(executor.confirm(executor.plan("drain-worker", ["w-03"]), "drain w-03"))
    assert drained.ok
    clock.now += 60
    failed = await executor.run(executor.confirm(executor.plan("drain-worker", ["w-99"]), "drain w-99"))
    assert not failed.ok
    clock.now += 60
    # A console that died between its intent and its result.
    audit.append({"type": "intent", "intent": "lost-1", "action": "resume-intake", "title": "Resume intake",
                  "targets": [], "count": 0, "operator": {"user": "dave", "client": ""}, "incident": incident.id})
    # An action of another incident in the same window is not this one's.
    audit.append({"type": "intent", "intent": "other-1", "action": "resume-intake", "title": "Resume intake",
                  "targets": [], "operator": {"user": "erin", "client": ""}, "incident": "INC-2027-01-15-999"})
    # Another console with its own audit log: only its timeline summary reaches this store.
    store.add_event(incident.id, "frank@10.0.0.9", "action", "Pause intake: done (status 200)")
    clock.now += 60
    store.set_status(incident.id, "mitigating", "bob")

    entries = read_timeline(store, audit.records(), store.get(incident.id), clock.now)
    shown = [(e.at - START, e.operator, e.kind) for e in entries]
    assert shown == [
        (0, "bob", "declared"),
        (60, "bob", "severity"),
        (120, "carol", "note"),
        (180, "carol", "tick"),
        (180, "bob", "severity"),
        (240, "alice@10.0.0.7", "action"),
        (300, "alice@10.0.0.7", "action"),
        (360, "frank@10.0.0.9", "action"),  # a tie: the store's events first
        (360, "dave", "action"),
        (420, "bob", "status"),
    ]
    texts = [e.text for e in entries]
    assert texts[3] == "queue-backlog: Pause intake"
    assert texts[5] == "Drain worker w-03: done (HTTP 200)"
    assert texts[6].startswith("Drain worker w-99: FAILED (") and "w-99" in texts[6]
    assert texts[7] == "Pause intake: done (status 200)"  # kept: no audit record here accounts for it
    assert texts[8] == "Resume intake: OUTCOME UNKNOWN (no result recorded)"
    # The executor wrote its own "action" events too; each action still shows once.
    assert [e.kind for e in store.timeline(incident.id)].count("action") == 3
    assert entries[5].action is not None and entries[5].action.result["status"] == 200
    assert entries[5].action.targets == ("w-03",) and entries[5].action.environment == "demo"
    await executor.aclose()


def test_checklist_counts_source_ticks_and_keeps_unknown_runbooks(tmp_path):
    clock = Clock(START)
    store = IncidentStore(tmp_path / "state.db", clock=clock)
    incident = store.declare("Queue stalled", "SEV-2", "", "bob")
    (tmp_path / "books").mkdir()
    (tmp_path / "books" / "small.md").write_text("# Small\n\n- [x] already done\n- [ ] first\n  - [ ] nested\n- [ ] last\n")
    runbooks = {r.id: r for r in load_runbooks([tmp_path / "books"])}
    keys = [step.key for step in runbooks["small"].steps()]
    store.tick(incident.id, "small", keys[1], "first", True, "carol")
    store.tick(incident.id, "small", keys[0], "already done", False, "carol")  # unticked after all
    store.tick(incident.id, "small", "gone/9", "a step since removed", True, "carol")
    store.tick(incident.id, "deleted-book", "x/1", "restart the thing", True, "dave")

    deleted, small = checklist_progress(store.checklist(incident.id), runbooks)
    assert (small.title, small.total, small.done) == ("Small", 4, 1)
    assert [(s.text, s.ticked, s.in_runbook) for s in small.steps] == [
        ("already done", False, True), ("first", True, True), ("nested", False, True), ("last", False, True),
        ("a step since removed", True, False),
    ]
    assert [s.text for s in small.open_steps()] == ["already done", "nested", "last"]
    assert deleted.total is None and deleted.done == 1 and "not found" in deleted.problem

    record = read_record(store, AuditLog(tmp_path / "audit.jsonl"), incident.id, [tmp_path / "books"], clock.now)
    assert [p.runbook for p in record.checklist] == ["deleted-book", "small"]


def test_shipped_config_points_at_runbooks_the_record_reads(tmp_path):
    config = config_for("http://127.0.0.1:9")
    store = IncidentStore(tmp_path / "state.db", clock=Clock(START))
    incident = store.declare("Queue stalled", "SEV-2", "", "bob")
    from console.runbooks import load_runbooks

    [runbook] = [r for r in load_runbooks(config.runbooks.dirs) if r.id == "queue-backlog"]
    step = next(s for s in runbook.steps() if s.key == "dispatch-stalled/3.1")
    store.tick(incident.id, "queue-backlog", step.key, step.text, True, "carol")
    (tmp_path / "audit.jsonl").write_text(json.dumps({"type": "incident"}) + "\n")
    record = read_record(store, AuditLog(tmp_path / "audit.jsonl"), incident.id, config.runbooks.dirs, START + 60)
    [progress] = record.checklist
    assert progress.total is not None and progress.total > 10 and progress.done >= 1
