"""Incidents, read-only mode and guarded actions driven through the keyboard, against the
real demo backend and real SQLite and audit files."""

from __future__ import annotations

import json

from console.config_actions import AuditConfig, IncidentConfig
from console.demo.server import DemoServer
from screens.app import OpsConsoleApp
from screens.audit import AuditScreen
from screens.dead_letters import DeadLetterScreen
from screens.modals.batch import BatchScreen
from screens.modals.confirm import ConfirmScreen
from screens.modals.pick import PickScreen
from screens.modals.text_view import TextViewScreen
from tests.conftest import config_for, screen_text, wait_for


def shared_config(server_url, tmp_path, **overrides):
    return config_for(
        server_url,
        incident=IncidentConfig(state_path=str(tmp_path / "state.db")),
        audit=AuditConfig(path=str(tmp_path / "audit.jsonl")),
        **overrides,
    )


def notices(app) -> str:
    """Every notification shown so far, as one string (toasts wrap on screen)."""
    return "\n".join(n.message for n in app._notifications)


def has_data(app) -> bool:
    snap = app.dashboard.snapshot
    return snap is not None and all(s.ok_at is not None for s in snap.sources.values())


def focused_in(app, panel: str) -> bool:
    return app.focused is not None and any(node.id == panel for node in app.focused.ancestors)


async def focus_panel(app, pilot, panel: str) -> None:
    for _ in range(4):
        if focused_in(app, panel):
            break
        await pilot.press("tab")
    await wait_for(pilot, lambda: focused_in(app, panel) and app.focused.row_count > 0, what=f"a focused {panel} row")


async def focus_workers(app, pilot) -> None:
    await focus_panel(app, pilot, "workers")


async def open_drain_confirmation(app, pilot) -> None:
    await focus_workers(app, pilot)
    await pilot.press("a")
    await wait_for(pilot, lambda: isinstance(app.screen, PickScreen), what="the action picker")
    labels = [label for _, label in app.screen.options]
    await pilot.press(*["down"] * next(i for i, label in enumerate(labels) if label.startswith("Drain worker")))
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")


async def test_cancel_and_wrong_phrase_send_nothing_and_double_enter_sends_once(demo_server, tmp_path):
    app = OpsConsoleApp(shared_config(demo_server.url, tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: has_data(app), what="first data")
        await open_drain_confirmation(app, pilot)
        worker = app.screen.plan.targets[0]
        text = screen_text(app)
        assert f"POST {demo_server.url}/v1/workers/{worker}/drain" in text
        assert " demo " in text and "1 target" in text and f"drain {worker}" in text
        await pilot.press("escape")
        assert app.screen is app.dashboard

        await open_drain_confirmation(app, pilot)
        await pilot.press(*"drain please", "enter")
        assert isinstance(app.screen, ConfirmScreen) and "Not sent" in screen_text(app)
        assert demo_server.mutations == []

        await pilot.press(*["backspace"] * 12, *f"drain {worker}", "enter", "enter")
        await wait_for(pilot, lambda: len(demo_server.mutations) >= 1, what="the drain to arrive")
        await pilot.pause(0.3)
        assert [m["path"] for m in demo_server.mutations] == [f"/v1/workers/{worker}/drain"]
        records = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
        await wait_for(pilot, lambda: len((tmp_path / "audit.jsonl").read_text().splitlines()) == 2, what="the result record")
        records = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
        assert [r["type"] for r in records] == ["intent", "result"] and records[1]["status"] == 200

        # The same action on the same worker again within a minute warns who did it.
        await open_drain_confirmation(app, pilot)
        assert "already did this" in screen_text(app)


async def test_read_only_from_the_command_line_refuses_and_cannot_be_lifted(demo_server, tmp_path):
    app = OpsConsoleApp(shared_config(demo_server.url, tmp_path), read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: has_data(app) and "READ-ONLY" in screen_text(app), what="the badge")
        assert screen_text(app).splitlines()[0].startswith(" opsconsole  demo   READ-ONLY")
        await focus_workers(app, pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, PickScreen), what="the action picker")
        drain = next(i for i, (_, label) in enumerate(app.screen.options) if label.startswith("Drain worker"))
        await pilot.press(*["down"] * drain, "enter")
        await pilot.pause(0.2)
        assert app.screen is app.dashboard  # refused before any confirmation
        assert "Not sent: read-only: --read-only on the command line" in notices(app)
        await pilot.press("b")
        await pilot.pause(0.1)
        assert "cannot be unlocked" in notices(app)

        # A safe action still works: inspect the job under a lease.
        await focus_panel(app, pilot, "leases")
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, PickScreen), what="the action picker")
        assert any("(refused: read-only)" in label for _, label in app.screen.options)
        assert app.screen.options[0][1].startswith("Inspect job job-")
        job = app.screen.options[0][1].split()[2]
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TextViewScreen), what="the inspected job")
        assert f"Inspect job {job}" in screen_text(app)
        assert f'"id": "{job}"' in app.screen.body.plain and '"history"' in app.screen.body.plain
        assert demo_server.mutations == []


async def test_sev1_declared_in_one_console_locks_the_other_within_a_refresh(demo_server, tmp_path):
    first = OpsConsoleApp(shared_config(demo_server.url, tmp_path))
    second = OpsConsoleApp(shared_config(demo_server.url, tmp_path))
    async with first.run_test(size=(80, 24)) as pilot, second.run_test(size=(80, 24)) as other:
        await wait_for(pilot, lambda: has_data(first), what="first console data")
        await pilot.press("i")
        await pilot.press("D", *"Provider outage", "enter")
        await pilot.press(*["backspace"] * 5, *"SEV-1", "enter")
        await wait_for(pilot, lambda: "SEV-1" in screen_text(first) and "Provider outage" in screen_text(first), what="the declared incident")
        assert "INC-" in screen_text(first) and "READ-ONLY" in screen_text(first)
        # The second console reads the shared file every refresh (0.5 s here); the deadline
        # allows for a loaded machine.
        await wait_for(other, lambda: second.controls.policy.state().read_only, timeout=2.0, what="the second console to lock")
        await wait_for(other, lambda: "READ-ONLY   SEV-1  investigating" in screen_text(second), timeout=2.0, what="its badge")
        assert second.controls.executor.refusal(second.controls.executor.plan("pause-intake")).startswith("read-only: SEV-1")

        await pilot.press("s")  # investigating → identified
        await wait_for(other, lambda: "SEV-1  identified" in screen_text(second), timeout=2.0, what="the status change")
        await pilot.press("ctrl+p", *"Set severity SEV-2")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(other, lambda: not second.controls.policy.state().read_only, timeout=2.0, what="the unlock")
        assert "SEV-2  identified" in screen_text(second)
        await pilot.press("X", *"false alarm", "enter")
        await wait_for(other, lambda: "SEV-2" not in screen_text(second), timeout=2.0, what="the resolved incident to go")
        kinds = [e.kind for e in first.controls.store.timeline(first.controls.store.recent(1)[0].id)]
        assert kinds == ["declared", "status", "severity", "resolved"]


async def test_break_glass_from_the_ui_relocks_when_its_time_is_up(demo_server, tmp_path):
    now = [1_800_000_000.0]
    config = shared_config(demo_server.url, tmp_path, read_only=True)
    app = OpsConsoleApp(config, clock=lambda: now[0])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: "READ-ONLY" in screen_text(app), what="the badge")
        await pilot.press("b", *"too short", "enter")
        assert "at least 10 characters" in screen_text(app)
        await pilot.press(*" but now long enough", "enter")
        await wait_for(pilot, lambda: "UNLOCKED 10m" in screen_text(app), what="the unlocked badge")
        now[0] += 601
        await wait_for(pilot, lambda: "READ-ONLY" in screen_text(app), what="read-only to come back")
        types = [json.loads(line)["type"] for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
        assert types == ["break-glass", "relocked"]


async def test_dead_letter_screen_pages_filters_selects_and_replays_exact_ids(tmp_path):
    server = DemoServer(port=0, speed=0, seed=7, warmup_s=0, dlq_preload=1200).start()
    try:
        app = OpsConsoleApp(shared_config(server.url, tmp_path))
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: has_data(app), what="first data")
            await pilot.press("d")
            screen = app.screen
            assert isinstance(screen, DeadLetterScreen)
            await wait_for(pilot, lambda: screen.page is not None, what="the first page")
            assert "1,200 matching · page 1/24" in screen_text(app)
            await pilot.press("n")
            await wait_for(pilot, lambda: screen.page.offset == 50, what="page 2")
            assert screen.page.items[0].id == "dlq-0001150"

            await pilot.press("c")  # the largest error class
            await wait_for(pilot, lambda: screen.page is not None and screen.page.offset == 0, what="the class filter")
            assert {letter.error_class for letter in screen.page.items} == {"ProviderUnavailable"}
            assert "500 matching" in screen_text(app)
            await pilot.press("slash", *"job-p", "enter")
            await wait_for(pilot, lambda: screen.page is not None, what="the text filter")

            await pilot.press("space", "space")
            chosen = [letter.id for letter in screen.page.items[:2]]
            assert list(screen.selected) == chosen and "2 selected" in screen_text(app)
            await pilot.press("up", "enter")  # the payload of the second entry
            await wait_for(pilot, lambda: isinstance(app.screen, TextViewScreen), what="the payload viewer")
            assert "lecture_id" in screen_text(app)
            await pilot.press("escape", "y")
            assert app.clipboard == chosen[1]

            await pilot.press("R")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the batch confirmation")
            assert "2 targets" in screen_text(app) and " ".join(chosen) in screen_text(app)
            await pilot.press(*"replay 2", "enter")
            await wait_for(pilot, lambda: isinstance(app.screen, BatchScreen) and app.screen.outcome is not None, what="the batch")
            assert "2 of 2 done, 0 not done" in screen_text(app)
            await pilot.press("escape")
            assert [json.loads(m["body"])["ids"] for m in server.mutations] == [chosen]
            await wait_for(pilot, lambda: not screen.selected, what="the selection to clear")

            # Everything matching the filter, counted at confirmation.
            await pilot.press("F")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the filter batch confirmation")
            plan = app.screen.plan
            assert plan.count == 498 and plan.meta["filter"] == "class=ProviderUnavailable text='job-p'"
            await pilot.press("escape")
            assert len(server.mutations) == 1
    finally:
        server.stop()


async def test_audit_screen_and_outcome_unknown_on_start(demo_server, tmp_path):
    audit = tmp_path / "audit.jsonl"
    audit.write_text(
        json.dumps({"type": "intent", "intent": "dead-beef", "action": "drain-worker", "title": "Drain worker",
                    "targets": ["w-04"], "operator": {"user": "bob"}, "at": "2026-11-23T03:12:00.000Z"}) + "\n"
    )
    demo_server.sim.record("ops", "worker.drain", "w-09", "drained by hand")
    app = OpsConsoleApp(shared_config(demo_server.url, tmp_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: "no result was recorded" in notices(app), what="the outcome-unknown notice")
        assert "Drain worker w-04 by bob at 2026-11-23T03:12:00.000Z" in notices(app)
        await pilot.press("L")
        await wait_for(pilot, lambda: isinstance(app.screen, AuditScreen) and "drained by hand" in screen_text(app), what="both logs")
        assert "OUTCOME UNKNOWN" in screen_text(app)


async def test_safe_actions_work_read_only_and_a_replay_is_sent_once_despite_double_enter(tmp_path):
    server = DemoServer(port=0, speed=0, seed=7, warmup_s=0, dlq_preload=60).start()
    try:
        config = shared_config(server.url, tmp_path)
        app = OpsConsoleApp(config)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: has_data(app), what="first data")
            store = app.controls.store
            incident = store.declare("Provider outage", "SEV-1", "", "bob")
            await wait_for(pilot, lambda: "READ-ONLY" in screen_text(app), what="read-only from the SEV-1")
            await pilot.press("d")
            screen = app.screen
            await wait_for(pilot, lambda: screen.page is not None, what="the first page")
            first = screen.page.items[0].id
            await pilot.press("v")  # safe: view the payload
            await wait_for(pilot, lambda: isinstance(app.screen, TextViewScreen), what="the payload")
            await pilot.press("escape", "y")  # safe: copy the id
            assert app.clipboard == first
            await pilot.press("R")  # guarded: refused before any confirmation
            await pilot.pause(0.2)
            assert app.screen is screen and "Not sent: read-only: SEV-1" in notices(app)
            assert server.mutations == []

            store.set_severity(incident.id, "SEV-2", "bob")
            await wait_for(pilot, lambda: not app.controls.policy.state().read_only, what="the unlock")
            await pilot.press("R")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
            assert f"POST {server.url}/v1/dlq/{first}/replay" in screen_text(app)
            await pilot.press(*first, "enter", "enter")
            await wait_for(pilot, lambda: first not in [l.id for l in (screen.page.items if screen.page else [])], what="the page without it")
            await pilot.pause(0.3)
            assert [(m["path"], m["applied"]) for m in server.mutations] == [(f"/v1/dlq/{first}/replay", True)]
            kinds = [e.kind for e in store.timeline(incident.id)]
            assert kinds == ["declared", "severity", "action"]
    finally:
        server.stop()


async def test_an_action_with_a_typed_value_checks_it_and_shows_the_body(demo_server, tmp_path):
    app = OpsConsoleApp(shared_config(demo_server.url, tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: has_data(app), what="first data")
        await pilot.press("ctrl+p", *"Set concurrency limit")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "New concurrency limit" in screen_text(app), what="the value prompt")
        await pilot.press(*"-1", "enter")
        assert "must match [0-9]{1,4}" in screen_text(app)
        await pilot.press("backspace", "backspace", "3", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
        text = screen_text(app)
        assert f"PUT {demo_server.url}/v1/limits/concurrency" in text and '{"limit": 3}' in text
        await pilot.press(*"limit 3", "enter")
        await wait_for(pilot, lambda: demo_server.sim.concurrency_limit == 3, what="the new limit")
        assert [json.loads(m["body"]) for m in demo_server.mutations] == [{"limit": 3}]
