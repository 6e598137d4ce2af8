"""Runbook steps addressed by key ("queue-depth/4.1") for the profile end-to-end tests:
open the suggested runbook, move the cursor to a step, tick it, run its linked action
through the typed confirmation. Declaring and exporting the review are in
profile_walkthrough.py. Every step is keys pressed as an operator would."""

from __future__ import annotations

from screens.modals.confirm import ConfirmScreen
from screens.modals.pick import PickScreen
from screens.runbook_view import RunbookScreen
from tests.conftest import screen_text, wait_for


def reading(app, name: str):
    """Signal `name` as the dashboard last rendered it (None before the first poll)."""
    snapshot = app.dashboard.snapshot
    return next((r for r in snapshot.signals if r.name == name), None) if snapshot else None


def value_of(app, name: str) -> float | None:
    found = reading(app, name)
    return None if found is None else found.value


async def open_suggested_runbook(pilot, app, suggestion: str) -> RunbookScreen:
    await wait_for(pilot, lambda: f"runbook: {suggestion}" in screen_text(app), what=f"the suggestion {suggestion!r}")
    await pilot.press("g")
    await wait_for(pilot, lambda: isinstance(app.screen, RunbookScreen) and app.screen.loaded, what="the suggested runbook")
    return app.screen


async def go_to_step(pilot, screen: RunbookScreen, key: str) -> None:
    """Down (j) or up (k) until the cursor is on step `key`, e.g. "queue-depth/4.1"."""
    target = next((i for i, block in enumerate(screen.blocks) if block.step is not None and block.step.key == key), None)
    assert target is not None, f"no step {key} in the runbook"
    for _ in range(2 * len(screen.blocks)):  # a block taller than the screen takes more than one press
        if screen.cursor == target:
            return
        await pilot.press("j" if screen.cursor < target else "k")
    raise AssertionError(f"the cursor did not reach step {key}")


async def tick(pilot, screen: RunbookScreen, *keys: str) -> None:
    for key in keys:
        await go_to_step(pilot, screen, key)
        await pilot.press("space")
    await wait_for(pilot, lambda: screen.writing == 0, what="the ticks to be stored")


async def run_linked_action(pilot, app, screen: RunbookScreen, key: str, *, pick: str = "", value: str = "", phrase: str) -> str:
    """`a` on step `key`: pick the action if the step links several, type the value it
    asks for (a row id or a parameter), then the confirmation phrase. Returns the
    confirmation's text as shown."""
    await go_to_step(pilot, screen, key)
    await pilot.press("a")
    if pick:
        await wait_for(pilot, lambda: isinstance(app.screen, PickScreen), what="the action picker")
        names = [name for name, _ in app.screen.options]
        await pilot.press(*["down"] * names.index(pick), "enter")
    if value:
        await wait_for(pilot, lambda: not isinstance(app.screen, (RunbookScreen, PickScreen)), what="the value prompt")
        await pilot.press(*value, "enter")
    await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the confirmation")
    shown = screen_text(app)
    await pilot.press(*phrase, "enter")
    await wait_for(pilot, lambda: app.screen is screen, what="the runbook after the confirmation")
    return shown
