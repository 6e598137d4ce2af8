"""Status updates: the countdown by severity, the composer's draft from the incident's
records and the latest signals, and the composer driven by keys (copy over OSC 52, save,
mark sent, a draft kept per incident across Esc, a fresh draft on ctrl+n)."""

from __future__ import annotations

import base64

from console.config_runbooks import StatusUpdatesConfig
from console.format import number
from console.incident import Incident, IncidentStore
from console.incident_record import read_record
from console.models import Direction, Level, SignalReading, Snapshot, SourceState, Trend
from console.poller import METRICS, STATS
from console.status_update import PLACEHOLDER_NEXT, compose_update, impact, latest_readings, sent_summary, update_due
from screens.app import OpsConsoleApp
from screens.incident import IncidentScreen
from screens.status_update import StatusUpdateScreen
from screens.widgets.mode_line import ModeLine
from tests.conftest import screen_text, wait_for
from tests.test_actions import Clock, parts
from tests.test_dashboard import backend_metric
from tests.test_guarded_ui import has_data, shared_config

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
    draft = compose_update(record, "prod-eu", CADENCE, None, "no metrics read yet")
    assert "Impact: Provider answering 503. Now: signals unavailable: no metrics read yet" in draft
    assert "ETA: unknown" in draft and PLACEHOLDER_NEXT in draft and "- none yet" in draft

    clock.now += 300
    store.set_status(inc.id, "mitigating", "bob")
    store.add_event(inc.id, "carol", "note", "provider says ETA 09:30 UTC")
    store.tick(inc.id, "queue-backlog", "dispatch-stalled/3.1", "Pause intake so the backlog stops growing; producers keep their work and resend it later.", True, "carol")
    assert (await executor.run(executor.confirm(executor.plan("drain-worker", ["w-03"]), "drain w-03"))).ok
    clock.now += 600
    record = read_record(store, audit, inc.id, config.runbooks.dirs, clock.now)
    draft = compose_update(record, "prod-eu", CADENCE, ())
    lines = draft.splitlines()
    assert lines[0] == f"SEV-2 {inc.id} mitigating: Provider answering 503"
    assert "Status: mitigating (SEV-2), started 08:00 UTC, 15m ago" in lines
    assert "Impact: Provider answering 503. Now: no signal at warn or crit" in lines and "Scope: environment prod-eu" in lines
    assert "ETA: 09:30 UTC" in lines
    next_actions = lines[lines.index("Next actions:") + 1 : lines.index("Actions taken:") - 1]
    assert len(next_actions) == 6 and next_actions[-1].startswith("- ... ") and "runbook steps" in next_actions[-1]
    assert all("(queue-backlog)" in line for line in next_actions[:5])
    assert not any("Pause intake so the backlog" in line for line in next_actions)  # ticked: not next
    assert "- 08:05 UTC Drain worker w-03: done (HTTP 200) (alice@10.0.0.7)" in lines
    assert lines[-1] == "Next update by 08:45 UTC."
    assert sent_summary("\n\n  " + lines[0] + "\nmore") == lines[0]
    await executor.aclose()


def test_impact_names_the_signals_at_warn_or_crit_in_the_tiles_words():
    rising = Trend(Direction.RISING, 14 * 60, False, 0.5)
    readings = (
        SignalReading("queue_depth", "Queue depth", "jobs", 812, Level.CRIT, trend=rising, drain=True),
        SignalReading("lease_conflict_rate", "Lease conflicts", "%", 6.5, Level.WARN, error="timed out after 3s"),
        SignalReading("recovery_latency", "Recovery", "ms", 120, Level.OK, trend=rising),
        SignalReading("backpressure", "Backpressure", "/min", None, Level.NODATA, note="collecting"),
        SignalReading("terminal_error_rate", "Terminal errors", "%", 6.2, Level.CRIT),
    )
    assert impact("Queue backing up.", readings) == (
        "Queue backing up. Now: Queue depth 812 jobs CRIT, rising for 14m, no drain; Terminal errors 6.20 % CRIT; "
        "Lease conflicts 6.50 % WARN, last known, its query failing: timed out after 3s"
    )
    assert impact("Queue backing up", readings[2:4]) == "Queue backing up. Now: no signal at warn or crit"
    hostile = "\x1b]52;c;cHduZWQ=\x07[bold]x"
    assert impact(f"Queue {hostile}", None, f"stale 2m: {hostile}") == (
        "Queue ␛]52;c;cHduZWQ=␇[bold]x. Now: signals unavailable: stale 2m: ␛]52;c;cHduZWQ=␇[bold]x"
    )

    # What the dashboard's snapshot gives: nothing yet, a stale metrics source, or its readings.
    assert latest_readings(None, START) == (None, "no metrics read yet")
    fresh = Snapshot(START, {METRICS: SourceState(METRICS, ok_at=START - 1)}, readings)
    assert latest_readings(fresh, START) == (readings, "")
    stale = Snapshot(START, {METRICS: SourceState(METRICS, ok_at=START - 150, error="connection refused")}, readings)
    assert latest_readings(stale, START) == (None, "metrics stale 2m: connection refused")
    # Signals read from the API's JSON are held back the same way when their source fails.
    stats = Snapshot(START, {METRICS: fresh.sources[METRICS], STATS: SourceState(STATS, ok_at=START - 30, error="HTTP 503")}, readings)
    assert latest_readings(stats, START) == (None, "stats stale 30s: HTTP 503")


def impact_line(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("Impact: "))


async def open_composer(app, pilot, key: str = "u") -> StatusUpdateScreen:
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(app.screen, StatusUpdateScreen), what="the composer")
    return app.screen


async def test_draft_names_the_queue_depth_of_the_backlog_and_says_when_signals_are_unavailable(demo_server, tmp_path):
    demo_server.sim.set_scenario("backlog")
    demo_server.sim.advance(900)
    depth = backend_metric(demo_server, "oris_runtime_queue_depth")
    assert depth >= 500  # crit in the shipped config
    IncidentStore(tmp_path / "state.db").declare("Queue backing up", "SEV-2", "", "bob")
    app = OpsConsoleApp(shared_config(demo_server.url, tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: has_data(app) and app.incident is not None, what="data and the incident")
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, IncidentScreen) and app.screen.incident is not None, what="the incident screen")
        composer = await open_composer(app, pilot)
        assert impact_line(composer.text).startswith(f"Impact: Queue backing up. Now: Queue depth {number(depth)} jobs CRIT")

        # The backend goes away: a fresh draft (ctrl+n) invents no numbers, and says why.
        demo_server.stop()
        await wait_for(pilot, lambda: app.dashboard.snapshot.source(METRICS).error, what="the metrics source to fail")
        before = composer.text
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: "signals unavailable" in composer.text, what="a fresh draft")
        line = impact_line(composer.text)
        assert line.startswith("Impact: Queue backing up. Now: signals unavailable: metrics stale ") and "connection refused" in line
        assert "Queue depth" not in composer.text
        await pilot.press("ctrl+z")  # the fresh draft was one edit: the text before comes back
        assert composer.text == before


async def test_esc_keeps_the_edited_draft_per_incident_until_it_is_marked_sent(demo_server, tmp_path):
    store = IncidentStore(tmp_path / "state.db")
    first = store.declare("Provider answering 503", "SEV-2", "", "bob")
    app = OpsConsoleApp(shared_config(demo_server.url, tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.incident is not None, what="the incident")
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, IncidentScreen) and app.screen.incident is not None, what="the incident screen")
        composer = await open_composer(app, pilot)
        await pilot.press("escape")  # an untouched fresh draft is not worth keeping
        assert isinstance(app.screen, IncidentScreen) and app.update_drafts == {}

        composer = await open_composer(app, pilot)
        fresh = composer.text
        await pilot.press(*"Hello. ")
        await pilot.press("escape")
        assert isinstance(app.screen, IncidentScreen)
        composer = await open_composer(app, pilot)
        assert composer.text == "Hello. " + fresh
        assert "The draft you kept" in screen_text(app)

        # Another incident becomes the current one: its composer starts fresh, and the kept
        # draft waits for its own incident.
        await pilot.press("escape")
        second = store.declare("Storage errors", "SEV-1", "", "bob")
        await wait_for(pilot, lambda: app.incident.id == second.id, what="the SEV-1 as the current incident")
        composer = await open_composer(app, pilot)
        assert composer.text.startswith(f"SEV-1 {second.id}") and "Hello." not in composer.text
        await pilot.press("escape")
        store.resolve(second.id, "bob")
        await wait_for(pilot, lambda: app.incident.id == first.id, what="the first incident as current again")
        composer = await open_composer(app, pilot)
        assert composer.text.startswith("Hello. ")

        # ctrl+n replaces the kept text with a fresh draft; closed untouched, nothing is kept.
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: not composer.text.startswith("Hello. "), what="a fresh draft")
        await pilot.press("escape")
        assert first.id not in app.update_drafts

        # While a draft is kept, the palette offers a fresh one too.
        await open_composer(app, pilot)
        await pilot.press(*"Again. ", "escape")
        assert app.update_drafts[first.id].startswith("Again. ")
        await pilot.press("ctrl+p", *"Fresh status update")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, StatusUpdateScreen), what="the composer from the palette")
        composer = app.screen
        assert composer.text.startswith(f"SEV-2 {first.id}")
        await pilot.press(*"Sent: ")
        await pilot.press("ctrl+r")  # marked sent: the draft is done with
        await wait_for(pilot, lambda: isinstance(app.screen, IncidentScreen), what="the composer to close")
        assert app.update_drafts == {} and store.timeline(first.id)[-1].text.startswith("Sent: SEV-2")
        composer = await open_composer(app, pilot)
        assert not composer.text.startswith("Sent: ")
        await pilot.press("escape")


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
