"""Keys typed faster than screens open: a terminal delivers a burst, and every key must
land on the screen the operator typed it for, in order, none lost."""

from __future__ import annotations

import unicodedata

from textual import events
from textual.app import _character_to_key, _get_unicode_name_from_key

from screens.app import OpsConsoleApp
from screens.dead_letters import DeadLetterScreen
from screens.runbook_view import RunbookScreen
from tests.conftest import config_for, wait_for
from tests.test_guarded_ui import shared_config


def burst(app, *keys: str) -> None:
    """Send keys the way a fast typist's terminal does: all at once, no waiting in between
    (Pilot.press waits for the app to go idle after every key, which hides the race)."""
    for name in keys:
        key, char = name, name if len(name) == 1 else None
        if len(name) == 1 and not name.isalnum():
            key = _character_to_key(name)
        elif char is None:
            try:
                char = unicodedata.lookup(_get_unicode_name_from_key(name))
            except KeyError:
                pass
        event = events.Key(key, char)
        event.set_sender(app)
        app._driver.send_message(event)


def typed(text: str) -> list[str]:
    return [c if c != " " else "space" for c in text]


async def test_a_title_typed_straight_after_the_declare_key_is_kept(demo_server, tmp_path):
    app = OpsConsoleApp(shared_config(demo_server.url, tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        # i opens the incident screen, D the title prompt; the title and Enter follow at once,
        # then the severity prompt's default is replaced.
        burst(app, "i", "D", *typed("queue stuck since 03:00"), "enter", *["backspace"] * 5, *typed("SEV-3"), "enter")
        await wait_for(pilot, lambda: app.controls.store.current() is not None, what="the declared incident")
        incident = app.controls.store.current()
        assert (incident.title, incident.severity) == ("queue stuck since 03:00", "SEV-3")
        # Nothing typed for the prompt was taken as a key of the incident screen (u, e, s, n ...).
        assert [e.kind for e in app.controls.store.timeline(incident.id)] == ["declared"]


async def test_a_filter_typed_straight_after_opening_the_dead_letter_screen_is_kept(demo_server, tmp_path):
    app = OpsConsoleApp(config_for(demo_server.url))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        burst(app, "d", "slash", *typed("timeout"))
        await wait_for(pilot, lambda: isinstance(app.screen, DeadLetterScreen), what="the dead-letter screen")
        await wait_for(pilot, lambda: app.focused is not None and getattr(app.focused, "value", None) == "timeout", what="the filter text")


async def test_a_runbook_typed_straight_after_k_opens(demo_server):
    app = OpsConsoleApp(config_for(demo_server.url))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.2)
        burst(app, "k", *typed("dead"), "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunbookScreen), what="the runbook")
        assert app.screen.runbook.id == "dead-letters"


async def test_keys_typed_right_after_enter_go_to_the_next_prompt(demo_server, tmp_path):
    app = OpsConsoleApp(shared_config(demo_server.url, tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("i", "D")  # the title prompt is open and has focus
        # Enter closes it and opens the severity prompt; what follows at once belongs there.
        burst(app, *typed("workers hung"), "enter", *["backspace"] * 5, *typed("SEV-1"), "enter")
        await wait_for(pilot, lambda: app.controls.store.current() is not None, what="the declared incident")
        incident = app.controls.store.current()
        assert (incident.title, incident.severity) == ("workers hung", "SEV-1")
