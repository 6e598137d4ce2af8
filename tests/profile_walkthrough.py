"""An on-call walk through a profile, key by key, for the per-profile end-to-end tests:
declare, follow a runbook ticking steps, confirm a guarded action with its typed phrase,
export the review. Each step waits for what a person would see before going on."""

from __future__ import annotations

from pathlib import Path

from console.demo.server import DemoServer
from console.format import value_words
from console.sources.metrics_scrape import parse_exposition
from screens.incident import IncidentScreen
from screens.modals.confirm import ConfirmScreen
from screens.runbook_view import RunbookScreen
from tests.conftest import screen_text, wait_for
from tests.test_guarded_ui import has_data, notices
from tests.test_runbook_panel import move_to


def backend_samples(server: DemoServer) -> dict[str, list[tuple[dict[str, str], float]]]:
    import httpx

    return parse_exposition(httpx.get(server.url + "/metrics", timeout=5).text)


async def tiles_match_backend(app, pilot, server: DemoServer, expected: dict[str, float | None]) -> str:
    """Wait for data, then check each named signal's tile against the value the backend
    serves (None: the backend has no series, so the tile must say so). Returns the screen."""
    await wait_for(pilot, lambda: has_data(app), what="first data")
    readings = {r.name: r for r in app.dashboard.snapshot.signals}
    text = screen_text(app)
    for name, value in expected.items():
        reading = readings[name]
        assert reading.title in text, f"tile {reading.title!r} not on screen"
        if value is None:
            assert reading.value is None and "no data" in text
            continue
        assert reading.value is not None and abs(reading.value - value) < 1e-6, (name, reading.value, value)
        assert value_words(reading)[0] in text, (name, value_words(reading))
    return text


async def declare(app, pilot, title: str, severity: str = "SEV-2") -> str:
    """i, D, the title, the severity; back to the dashboard. Returns the incident id."""
    await pilot.press("i")
    await wait_for(pilot, lambda: isinstance(app.screen, IncidentScreen), what="the incident screen")
    await pilot.press("D", *title, "enter")
    await pilot.press(*["backspace"] * 5, *severity, "enter")
    await wait_for(pilot, lambda: app.controls.store.current() is not None, what="the declared incident")
    await pilot.press("escape")
    await wait_for(pilot, lambda: app.screen is app.dashboard, what="the dashboard")
    return app.controls.store.current().id


def links(action: str):
    """A step that links `action` (for `move_to`)."""
    return lambda step: any(link.name == action for link in step.links)


async def tick(app, pilot, screen: RunbookScreen) -> str:
    """Space on the step under the cursor; waits until the store has it. Returns its words."""
    store, incident = app.controls.store, app.controls.store.current()
    before = len(store.checklist(incident.id))
    step = screen.current_step()
    await pilot.press("space")
    await wait_for(pilot, lambda: len(store.checklist(incident.id)) == before + 1, what=f"the tick of {step.key}")
    return step.text


async def confirm(app, pilot, phrase: str) -> str:
    """Type the confirmation phrase of the open confirmation and send. Returns what it showed."""
    await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
    shown = screen_text(app)
    await pilot.press(*phrase, "enter")
    await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmScreen), what="the confirmation to close")
    return shown


async def run_linked_action(app, pilot, screen: RunbookScreen, action: str, phrase: str) -> str:
    """Down to the step linking `action`, `a`, the typed phrase. Returns what the confirmation showed."""
    await move_to(pilot, screen, links(action), f"linking {action}")
    await pilot.press("a")
    return await confirm(app, pilot, phrase)


async def export_review(app, pilot, data_dir: Path) -> str:
    """From the dashboard, i, then e on the incident screen: the review file's text."""
    await back_to_dashboard(app, pilot)
    await pilot.press("i")
    await wait_for(pilot, lambda: isinstance(app.screen, IncidentScreen) and app.screen.shown is not None, what="the incident")
    await pilot.press("e")
    reviews = data_dir / "opsconsole" / "reviews"
    await wait_for(pilot, lambda: any(reviews.glob("*.md")), what="the review file")
    await wait_for(pilot, lambda: "Post-incident review written to" in notices(app), what="the path")
    [path] = reviews.glob("*.md")
    return path.read_text()


async def pick(app, pilot, label: str) -> None:
    """Choose the option starting with `label` in the open picker (`a` on the dashboard)."""
    from screens.modals.pick import PickScreen

    await wait_for(pilot, lambda: isinstance(app.screen, PickScreen), what="the picker")
    labels = [text for _, text in app.screen.options]
    index = next((i for i, text in enumerate(labels) if text.startswith(label)), None)
    assert index is not None, f"{label!r} not among {labels}"
    await pilot.press(*["down"] * index, "enter")


async def back_to_dashboard(app, pilot) -> None:
    for _ in range(4):
        if app.screen is app.dashboard:
            return
        await pilot.press("escape")
        await pilot.pause(0.15)
    assert app.screen is app.dashboard


def assert_review(review: str, environment: str, title: str, runbook: str, ticked: list[str], actions: dict[str, str]) -> None:
    """The exported review names the environment and incident, holds every tick with its
    words and every action (name → title) as done."""
    assert f"| Environment | {environment} |" in review and f"| Title | {title} |" in review
    assert f"(`{runbook}`): {len(ticked)}/" in review
    for words in ticked:
        assert f"` {words} (" in review
    for name, action_title in actions.items():
        row = next((line for line in review.splitlines() if f"{action_title} (`{name}`)" in line), "")
        assert "| done (" in row, f"{name}: {row or 'not in the review'}"
