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

    def show(self, snapshot: Snapshot) -> None:
        state = snapshot.source(self.SOURCE)
        marker = staleness(state, snapshot.taken_at)
        self.set_class(bool(marker), "-stale")
        self.border_subtitle = Text(plain(marker, 70), style="bold") if marker else None
        self.border_title = Text(self.title_for(state))
        if state.data is not None:
            self.show_data(state, snapshot)

    def title_for(self, state: SourceState) -> str:
        return self.TITLE

    def show_data(self, state: SourceState, snapshot: Snapshot) -> None:
        raise NotImplementedError
