"""Status updates: the countdown by severity, the composer's draft from the incident's
records, and the composer driven by keys (copy over OSC 52, save, mark sent)."""

from __future__ import annotations

import base64

from console.config_runbooks import StatusUpdatesConfig
from console.incident import Incident, IncidentStore
from console.incident_record import read_record
from console.status_update import PLACEHOLDER_NEXT, compose_update, sent_summary, update_due
from screens.app import OpsConsoleApp
from screens.incident import IncidentScreen
from screens.status_update import StatusUpdateScreen
from screens.widgets.mode_line import ModeLine
from tests.conftest import screen_text, wait_for
from tests.test_actions import Clock, parts
from tests.test_guarded_ui import shared_config

START = 1_800_000_000.0  # 2027-01-15T08:00:00Z
CADENCE = StatusUpdatesConfig()


def incident(severity: str, status: str = "investigating") -> Incident:
    return Incident("INC-2027-01-15-001", "Queue stalled", severity, status, "bob", START, None if status != "resolved" else START + 1)


def test_countdown_by_severity_from_the_last_update_or_the_declaration():
    due = update_due(incident("SEV-1"), None, CADENCE)
    assert due.due_at == START + 15 * 60
    assert due.countdown(START) == "update in 15m"
    assert due.countdown(START + 60.5) == "update in 13m"  # whole minutes left, never more
    assert due.countdown(START + 13 * 60 + 1) == "update in 119s"  # seconds for the last two minutes
    assert due.countdown(START + 14 * 60 + 59.5) == "update in 1s"  # never 0 while not due
    assert not due.overdue(START + 14 * 60 + 59) and due.overdue(START + 15 * 60)
    assert due.countdown(START + 18 * 60) == "UPDATE OVERDUE 3m"
    assert update_due(incident("SEV-2"), START + 600, CADENCE).due_at == START + 600 + 30 * 60
    assert update_due(incident("SEV-3"), None, CADENCE).countdown(START + 30 * 60 + 1) == "update in 1h29m"
    assert update_due(incident("SEV-4"), None, CADENCE) is None  # no cadence configured
    assert update_due(incident("SEV-4"), None, StatusUpdatesConfig(sev4_min=240)).due_at == START + 4 * 3600
    assert update_due(incident("SEV-1", "resolved"), None, CADENCE) is None
    assert update_due(None, None, CADENCE) is None


async def test_draft_says_status_impact_scope_eta_next_actions_and_actions_taken(tmp_path, demo_server):
    clock = Clock(START)
    config, executor, policy, audit, store = parts(tmp_path, demo_server.url, clock=clock)
    inc = store.declare("Provider answering 503", "SEV-2", "", "bob")
    policy.incident_changed(store.current())
    record = read_record(store, audit, inc.id, config.runbooks.dirs, clock.now)
    draft = compose_update(record, "prod-eu", CADENCE)
    assert "ETA: unknown" in draft and PLACEHOLDER_NEXT in draft and "- none yet" in draft

    clock.now += 300
    store.set_status(inc.id, "mitigating", "bob")
    store.add_event(inc.id, "carol", "note", "provider says ETA 09:30 UTC")
    store.tick(inc.id, "queue-backlog", "dispatch-stalled/3.1", "Pause intake so the backlog stops growing", True, "carol")
    assert (await executor.run(executor.confirm(executor.plan("drain-worker", ["w-03"]), "drain w-03"))).ok
    clock.now += 600
    record = read_record(store, audit, inc.id, config.runbooks.dirs, clock.now)
    draft = compose_update(record, "prod-eu", CADENCE)
    lines = draft.splitlines()
    assert lines[0] == f"SEV-2 {inc.id} mitigating: Provider answering 503"
    assert "Status: mitigating (SEV-2), started 08:00 UTC, 15m ago" in lines
    assert "Impact: Provider answering 503" in lines and "Scope: environment prod-eu" in lines
    assert "ETA: 09:30 UTC" in lines
    next_actions = lines[lines.index("Next actions:") + 1 : lines.index("Actions taken:") - 1]
    assert len(next_actions) == 6 and next_actions[-1].startswith("- ... ") and "runbook steps" in next_actions[-1]
    assert all("(queue-backlog)" in line for line in next_actions[:5])
    assert not any("Pause intake so the backlog" in line for line in next_actions)  # ticked: not next
    assert "- 08:05 UTC Drain worker w-03: done (HTTP 200) (alice@10.0.0.7)" in lines
    assert lines[-1] == "Next update by 08:45 UTC."
    assert sent_summary("\n\n  " + lines[0] + "\nmore") == lines[0]
    await executor.aclose()


def badge(app) -> object:
    return app.screen.query_one(ModeLine).badge


async def test_header_countdown_note_key_and_composer_copy_save_mark_sent(demo_server, tmp_path, monkeypatch):
    monkeypatch.setenv("USER", "alice")
    monkeypatch.delenv("SSH_CONNECTION", raising=False)
    now = [START]
    app = OpsConsoleApp(shared_config(demo_server.url, tmp_path), clock=lambda: now[0])
    store = IncidentStore(tmp_path / "state.db", clock=lambda: now[0])
    inc = store.declare("Provider answering 503", "SEV-2", "", "bob")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: "update in 30m" in screen_text(app), what="the countdown on the dashboard")
        assert screen_text(app).splitlines()[0].startswith(" opsconsole  demo   SEV-2  investigating  update in 30m")
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, IncidentScreen) and app.screen.incident is not None, what="the incident screen")
        await pilot.press("n", *"ETA 09:30 after the failover", "enter")
        await wait_for(pilot, lambda: "ETA 09:30 after the failover" in screen_text(app), what="the note on the timeline")
        assert store.timeline(inc.id)[-1].kind == "note" and store.timeline(inc.id)[-1].operator == "alice"

        now[0] += 60  # an action through the executor against the demo backend
        executor = app.controls.executor
        assert (await executor.run(executor.confirm(executor.plan("pause-intake"), "pause intake"))).ok
        await wait_for(pilot, lambda: "Pause intake: done (HTTP 200)" in screen_text(app), what="the action on the timeline")
        assert screen_text(app).count("Pause intake") == 1  # the audit record, not also the executor's event

        now[0] = START + 25 * 60
        await wait_for(pilot, lambda: "update in 5m" in screen_text(app), what="the countdown")
        assert "on red" not in str(badge(app).spans)
        now[0] = START + 33 * 60
        await wait_for(pilot, lambda: "UPDATE OVERDUE 3m" in screen_text(app), what="the overdue update")
        loud = next(span for span in badge(app).spans if "OVERDUE" in badge(app).plain[span.start : span.end])
        assert str(loud.style) == "bold white on red"

        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, StatusUpdateScreen), what="the composer")
        composer = app.screen
        draft = composer.text
        assert "Status: investigating (SEV-2)" in draft and "Scope: environment demo" in draft
        assert "ETA: 09:30 after the failover" in draft
        assert "Pause intake: done (HTTP 200) (alice)" in draft
        assert "UPDATE OVERDUE" in screen_text(app).splitlines()[0]  # the header stays in sight

        await pilot.press(*"Hello. ")  # the operator edits the draft
        edited = composer.text
        assert edited == "Hello. " + draft
        written: list[str] = []
        real_write = app._driver.write
        monkeypatch.setattr(app._driver, "write", lambda data: (written.append(data), real_write(data)))
        await pilot.press("ctrl+o")
        assert app.clipboard == edited
        assert f"\x1b]52;c;{base64.b64encode(edited.encode()).decode()}\a" in written

        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: composer.saved is not None, what="the saved file")
        assert composer.saved.parent == tmp_path / "xdg-data" / "opsconsole" / "updates"
        assert composer.saved.name == f"{inc.id}-20270115T083300Z.md"
        assert composer.saved.read_text() == edited and composer.saved.stat().st_mode & 0o777 == 0o600
        await wait_for(pilot, lambda: "Saved to" in screen_text(app), what="the path on screen")
        unwrapped = "".join(line.strip("│ ") for line in screen_text(app).splitlines())
        assert composer.saved.name in unwrapped  # the whole path is shown, wrapped inside the dialog

        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: isinstance(app.screen, IncidentScreen), what="the composer to close")
        sent = store.timeline(inc.id)[-1]
        assert (sent.kind, sent.operator, sent.at) == ("status-update", "alice", START + 33 * 60)
        assert sent.text == f"Hello. SEV-2 {inc.id} investigating: Provider answering 503"
        await wait_for(pilot, lambda: "update in 30m" in screen_text(app), what="the countdown to restart")
        assert "OVERDUE" not in screen_text(app) and "status-update" in screen_text(app)

        # The dashboard's palette opens the composer too; Esc leaves it without recording anything.
        await pilot.press("escape")
        await pilot.press("ctrl+p", *"Status update")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, StatusUpdateScreen), what="the composer from the palette")
        assert "- 08:01 UTC Pause intake: done (HTTP 200) (alice)" in app.screen.text
        await pilot.press("escape")
        assert [e.kind for e in store.timeline(inc.id)].count("status-update") == 1
