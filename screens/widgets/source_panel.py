"""A bordered panel fed by one source; says in its border how stale it is and why."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.containers import Vertical

from console.format import staleness
from console.models import Snapshot, SourceState
from console.text import plain


class SourcePanel(Vertical):
    SOURCE: ClassVar[str]
    TITLE: ClassVar[str]
    _title: str = ""
    _subtitle: str = ""

    def show(self, snapshot: Snapshot) -> None:
        state = snapshot.source(self.SOURCE)
        marker = staleness(state, snapshot.taken_at)
        self.set_class(bool(marker), "-stale")
        # Setting a border title redraws the whole panel, so only on a change.
        subtitle = plain(marker, 70)
        if subtitle != self._subtitle:
            self._subtitle = subtitle
            self.border_subtitle = Text(subtitle, style="bold") if subtitle else None
        title = self.title_for(state)
        if title != self._title:
            self._title = title
            self.border_title = Text(title)
        if state.data is not None:
            self.show_data(state, snapshot)

    def title_for(self, state: SourceState) -> str:
        return self.TITLE

    def show_data(self, state: SourceState, snapshot: Snapshot) -> None:
        raise NotImplementedError
