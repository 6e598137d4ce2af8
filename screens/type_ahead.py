"""Keys typed faster than screens open still land where the operator meant them.

Textual hands each key to the focused widget's queue and checks bindings only when the key
bubbles back to the app. In a burst such as `i D queue stuck Enter`, every key after `i` was
already on its way to the dashboard when `i` opened the incident screen: the title was lost,
and a letter in it could run a key of the wrong screen. Here a key that comes back after the
screen changed is taken out of the stream, and it and every key behind it are sent again
one at a time, each once the app has settled from the one before (a prompt submitted, the
next one open and focused), so they arrive in order where the operator was looking. Enter and Escape often close or
open a screen (a prompt submitted, a dialog cancelled), so keys typed after them wait the
same way: otherwise they went to the input of the prompt that was closing.
"""

from __future__ import annotations

import asyncio
from collections import deque

from textual import events
from textual.app import App

SCREEN_KEYS = frozenset({"enter", "escape"})
"""Keys after which the screen may change: what is typed next waits until it has."""
SETTLE_POLL_S = 0.005
SETTLE_MAX_S = 0.5
"""A key waits at most this long for the app to settle, so a busy app delays it, never loses it."""


class TypeAheadApp(App[None]):
    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 - App's own signature
        super().__init__(*args, **kwargs)
        self._returned: deque[events.Key] = deque()
        """Keys that came back after the screen changed: older than any in _typed_ahead."""
        self._typed_ahead: deque[events.Key] = deque()
        """Keys typed while others wait, in the order typed."""
        self._replaying: asyncio.Task[None] | None = None

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and not event.is_forwarded and not getattr(event, "_replayed", False):
            if self._returned or self._typed_ahead or self._replay_running():  # behind the keys waiting
                self._typed_ahead.append(event)
                return
            event._typed_on = self.screen if self.screen_stack else None  # type: ignore[attr-defined]
            await super().on_event(event)
            if event.key in SCREEN_KEYS:
                self._start_replay()
            return
        await super().on_event(event)

    def _replay_running(self) -> bool:
        return self._replaying is not None and not self._replaying.done()

    def _start_replay(self) -> None:
        if not self._replay_running():
            self._replaying = asyncio.create_task(self._replay())

    async def _on_key(self, event: events.Key) -> None:
        # Textual runs App._on_key, which checks the key's bindings, after this handler
        # unless it is prevented.
        typed_on = getattr(event, "_typed_on", None)
        if typed_on is None or not self.screen_stack or typed_on is self.screen:
            return
        event.prevent_default()
        self._returned.append(events.Key(event.key, event.character))
        self._start_replay()

    async def _replay(self) -> None:
        """Each waiting key once the app has settled from the one before."""
        await self._settle()
        while self._returned or self._typed_ahead:
            key = (self._returned or self._typed_ahead).popleft()
            key._replayed = True  # type: ignore[attr-defined]
            key._typed_on = self.screen  # type: ignore[attr-defined]
            self.post_message(key)
            await self._settle()

    async def _settle(self) -> None:
        """Until no queue has work and the screen shown has taken focus (bounded)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_MAX_S
        quiet = 0
        while quiet < 2 and loop.time() < deadline:
            await asyncio.sleep(SETTLE_POLL_S)
            quiet = quiet + 1 if self._quiet() else 0

    def _quiet(self) -> bool:
        if not self.screen_stack:
            return True
        screen = self.screen
        if screen.focused is None and screen.focus_chain:
            return False
        pumps = [self, *self.screen_stack, *screen.walk_children()]
        return all(pump._message_queue.empty() for pump in pumps)
