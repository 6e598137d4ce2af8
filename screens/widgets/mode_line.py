"""The top line of the console's own screens: the badge, then what the screen shows."""

from __future__ import annotations

from rich.text import Text

from screens.widgets.quiet_static import QuietStatic


class ModeLine(QuietStatic):
    badge: Text = Text()
    detail: Text = Text()

    def show_badge(self, badge: Text) -> None:
        self.badge = badge
        self._redraw()

    def show_detail(self, detail: Text) -> None:
        self.detail = detail
        self._redraw()

    def _redraw(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append_text(self.badge)
        if self.badge:
            text.append(" ")
        text.append_text(self.detail)
        self.show_text(text)
