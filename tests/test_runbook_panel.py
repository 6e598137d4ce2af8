"""The runbook panel and the suggested runbook, driven through the keyboard against the real
demo backend, the project's own runbooks and real SQLite and audit files."""

from __future__ import annotations

import sqlite3

from console.config_runbooks import RunbooksConfig
from console.runbook_progress import progress
from screens.app import OpsConsoleApp
from screens.modals.confirm import ConfirmScreen
from screens.runbook_list import RunbookListScreen
from screens.runbook_view import RunbookScreen
from tests.conftest import screen_text, wait_for
from tests.test_guarded_ui import has_data, notices, shared_config
from tests.test_runbooks import IN_ORDER


async def open_runbook(app, pilot, query: str, key: str = "k") -> RunbookScreen:
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(app.screen, RunbookListScreen) and app.screen.runbooks, what="the runbook list")
    await pilot.press(*query)
    await wait_for(pilot, lambda: len(app.screen.shown()) == 1, what="the filter to leave one runbook")
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, RunbookScreen) and app.screen.loaded, what="the runbook")
    return app.screen


async def move_to(pilot, screen: RunbookScreen, wanted, what: str) -> None:
    for _ in range(80):
        step = screen.current_step()
        if step is not None and wanted(step):
            return
        await pilot.press("j")
    raise AssertionError(f"no step {what}")


def header(app) -> str:
    return screen_text(app).splitlines()[0]


async def test_ticks_go_to_the_store_and_timeline_every_console_sees_them_and_a_restart_keeps_them(demo_server, tmp_path):
    config = shared_config(demo_server.url, tmp_path)
    first, second = OpsConsoleApp(config), OpsConsoleApp(config)
    store = first.controls.store
    incident = store.declare("Queue backlog", "SEV-2", "", "alice")
    async with first.run_test(size=(80, 24)) as pilot, second.run_test(size=(80, 24)) as other:
        await pilot.press("k")
        await wait_for(pilot, lambda: isinstance(first.screen, RunbookListScreen) and first.screen.runbooks, what="the list")
        assert [r.id for r in first.screen.shown()] == ["dead-letters", "error-rate", "queue-backlog", "workers-and-leases"]
        runbook = next(r for r in first.screen.runbooks if r.id == "queue-backlog")
        total = progress(runbook, []).total
        assert f"0/{total}  queue-backlog" in screen_text(first)
        await pilot.press("escape")
        screen = await open_runbook(first, pilot, "back")
        # At 80 columns the badge (severity, status, update countdown) leaves room for the
        # progress and the title; the incident id comes last and shows on wider terminals.
        assert "SEV-2  investigating" in header(first) and f" 0/{total} done   Queue backlog" in header(first)

        await pilot.press("down", "j")  # past the title section to the second step
        step = screen.current_step()
        assert step.key == "queue-backlog/2"
        await pilot.press("space")
        await wait_for(pilot, lambda: store.checklist(incident.id), what="the tick in the store")
        [tick] = store.checklist(incident.id)
        assert (tick.runbook, tick.step, tick.ticked, tick.operator) == ("queue-backlog", step.key, True, str(first.controls.operator))
        assert (store.timeline(incident.id)[-1].kind, store.timeline(incident.id)[-1].text) == ("tick", f"queue-backlog: {step.text}")
        await wait_for(pilot, lambda: f" 1/{total} done " in header(first), what="the progress")
        assert f"ticked by {first.controls.operator}" in screen_text(first)

        # The other console, on the same state file, shows it and ticks one of its own.
        other_screen = await open_runbook(second, other, "queue b")
        assert f" 1/{total} done " in header(second)
        await other.press("j", "space")
        await wait_for(other, lambda: len(store.checklist(incident.id)) == 2, what="the second console's tick")
        await wait_for(pilot, lambda: f" 2/{total} done " in header(first), timeout=3.0, what="the first console to see it")
        assert other_screen.current_step().key == "queue-backlog/1"

    # Progress lives in the store, not in the console: a new start shows it.
    again = OpsConsoleApp(config)
    async with again.run_test(size=(80, 24)) as pilot:
        await open_runbook(again, pilot, "queue-backlog")
        assert f" 2/{total} done " in header(again)
        assert screen_text(again).count("[x] ") >= 2


async def test_without_an_incident_ticking_is_refused_and_nothing_is_stored(demo_server, tmp_path):
    app = OpsConsoleApp(shared_config(demo_server.url, tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_runbook(app, pilot, "dead")
        assert "no incident: view only" in header(app)
        await move_to(pilot, screen, lambda s: s.key == "read-the-queue/1", "read-the-queue/1")
        await pilot.press("space")
        await pilot.pause(0.2)
        assert "No open incident" in notices(app) and "Declare one first (i, then D)" in notices(app)
        assert "[ ] 1 Open the dead-letter screen" in screen_text(app)  # viewing still works
    with sqlite3.connect(tmp_path / "state.db") as db:
        assert db.execute("SELECT count(*) FROM checklist").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM events").fetchone() == (0,)


async def test_an_action_link_asks_for_the_typed_phrase_and_only_the_right_one_is_sent(demo_server, tmp_path):
    app = OpsConsoleApp(shared_config(demo_server.url, tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: has_data(app), what="first data")
        screen = await open_runbook(app, pilot, "backlog")
        await pilot.press("right_square_bracket")  # the next section: Dispatch stalled
        await move_to(pilot, screen, lambda s: any(link.name == "pause-intake" for link in s.links), "linking pause-intake")
        assert "⚙ action Pause intake" in screen_text(app)
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
        assert f"POST {demo_server.url}/v1/intake/pause" in screen_text(app)
        await pilot.press(*"pause now", "enter")
        assert isinstance(app.screen, ConfirmScreen) and "Not sent" in screen_text(app)
        assert demo_server.mutations == []
        await pilot.press(*["backspace"] * 3, *"intake", "enter")
        await wait_for(pilot, lambda: demo_server.mutations, what="the pause to reach the backend")
        assert [(m["path"], m["applied"]) for m in demo_server.mutations] == [("/v1/intake/pause", True)]
        assert app.screen is screen


HOSTILE = """\
# Odd runbook [bold red]markup[/] \x1b[2J

1. [Pause intake](action:pause-intake) before anything [@click=app.quit]
2. [Reboot the universe](action:reboot-universe)
3. Watch [queue depth](signal:queue_depth) and run `echo hi`
4. Then run `echo \u202eih ohce`
"""


async def test_read_only_refuses_link_actions_unknown_ones_are_named_and_file_text_stays_literal(demo_server, tmp_path):
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "runbooks" / "odd.md").write_text(HOSTILE)
    config = shared_config(
        demo_server.url, tmp_path, runbooks=RunbooksConfig(dirs=[str(tmp_path / "runbooks")]),
        keys={"runbooks": "f3", "runbook.copy": "y"},
    )
    app = OpsConsoleApp(config, read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: has_data(app), what="first data")
        screen = await open_runbook(app, pilot, "odd", key="f3")
        text = screen_text(app)
        assert "# Odd runbook [bold red]markup[/] ␛[2J" in text and "[@click=app.quit]" in text
        assert "reboot-universe: not in the catalogue" in text

        await pilot.press("j", "a")
        await pilot.pause(0.2)
        assert app.screen is screen and "Not sent: read-only: --read-only on the command line" in notices(app)
        await pilot.press("j", "a")
        await pilot.pause(0.1)
        assert "reboot-universe is not in the action catalogue" in notices(app)

        await pilot.press("j")
        depth = next(r for r in app.dashboard.snapshot.signals if r.name == "queue_depth")
        assert f"◆ signal Queue depth  {depth.value:.0f} jobs" in screen_text(app)
        await pilot.press("y")
        assert app.clipboard == "echo hi"
        await pilot.press("j", "y")  # a bidi override would make the pasted command differ from the shown one
        assert app.clipboard == "echo hi" and "Not copied: the command holds control" in notices(app)
        assert "echo <U+202E>ih ohce" in screen_text(app)
        assert demo_server.mutations == []


async def test_the_dashboard_suggests_the_dispatch_stalled_section_and_g_opens_it(demo_server, tmp_path):
    demo_server.sim.set_scenario("backlog")
    demo_server.sim.advance(900)  # queue depth past its crit line (500)
    app = OpsConsoleApp(shared_config(demo_server.url, tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: "runbook: Queue backlog › Dispatch stalled  (g)" in screen_text(app), what="the suggestion")
        assert "Queue depth CRIT" in screen_text(app).splitlines()[1]
        await pilot.press("g")
        await wait_for(pilot, lambda: isinstance(app.screen, RunbookScreen), what="the runbook")
        screen = app.screen
        await pilot.pause(0.1)
        block = screen.blocks[screen.cursor]
        assert screen.runbook.id == "queue-backlog" and block.step is None
        assert screen.runbook.sections[block.section_index].slug == "dispatch-stalled"
        assert screen_text(app).splitlines()[1].strip("▌ ") == "## Dispatch stalled"  # scrolled to the top

        await pilot.press("ctrl+p", *"Go to section Done when")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is screen and screen.current_step() is None
                       and screen.runbook.sections[screen.blocks[screen.cursor].section_index].slug == "done-when", what="the palette's jump")


async def test_text_after_the_last_step_is_shown_below_it_in_the_order_written(demo_server, tmp_path):
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "runbooks" / "restart.md").write_text(IN_ORDER)
    app = OpsConsoleApp(shared_config(demo_server.url, tmp_path, runbooks=RunbooksConfig(dirs=[str(tmp_path / "runbooks")])))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_runbook(app, pilot, "restart")
        lines = [line.strip("▌ ") for line in screen_text(app).splitlines()]
        written = [
            "# Restart a worker", "Only for a worker that holds no lease.", "[ ] 1 Stop the worker.",
            "[ ] 2 Wait for its lease to lapse.", "This takes up to 30 seconds.", "[ ] 3 Start it again.",
            "[ ] 4 Watch its heartbeat.", "> When it beats again, go to [b]Done[/b].", "chat | #ops", "# Done", "Close the incident.",
        ]
        at = [lines.index(line) for line in written]
        assert at == sorted(at)
        await pilot.press("j", "j", "j", "j", "j")  # the heading, four steps, then the text after them
        assert screen.blocks[screen.cursor].after and screen.current_step() is None
        await pilot.press("space")
        assert "This is a section's text, not a step" in notices(app)
        await pilot.press("right_square_bracket")  # sections only: the next heading, then back
        assert screen.runbook.sections[screen.blocks[screen.cursor].section_index].slug == "done"
        await pilot.press("left_square_bracket")
        assert screen.cursor == 0


def test_a_tick_made_on_other_words_is_shown_with_them_and_not_as_done():
    from rich.console import Console

    from screens.widgets.runbook_blocks import step_renderable

    from console.incident import Tick
    from console.runbook_model import Step

    step = Step("dispatch-stalled/3", "Pause intake")
    old = Tick("queue-backlog", step.key, "Restart the broker", True, "bob", 1.0)
    console = Console(width=100, record=True)
    console.print(step_renderable(step, 0, False, old, {}, {}, frozenset()))
    shown = console.export_text()
    assert "when it read: Restart the broker. Not counted" in shown and "Pause intake" in shown
