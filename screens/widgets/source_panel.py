"""A bordered panel fed by one source; says in its border how stale it is and why."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.containers import Vertical
from textual.geometry import Region
from typing_extensions import Self

from console.format import staleness
from console.models import Snapshot, SourceState
from console.text import plain


class SourcePanel(Vertical):
    SOURCE: ClassVar[str]
    TITLE: ClassVar[str]
    _title: str = ""
    _subtitle: str = ""
    _borders_only = False

    def show(self, snapshot: Snapshot) -> None:
        state = snapshot.source(self.SOURCE)
        marker = staleness(state, snapshot.taken_at)
        self.set_class(bool(marker), "-stale")
        # Setting a border title redraws the whole panel, tables and all: only on a
        # change, and then only the border lines (see `refresh`).
        subtitle = plain(marker, 70)
        title = self.title_for(state)
        self._borders_only = True
        try:
            if subtitle != self._subtitle:
                self._subtitle = subtitle
                self.border_subtitle = Text(subtitle, style="bold") if subtitle else None
            if title != self._title:
                self._title = title
                self.border_title = Text(title)
        finally:
            self._borders_only = False
        if state.data is not None:
            self.show_data(state, snapshot)

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False) -> Self:
        if self._borders_only and not (regions or layout or recompose):
            # Regions are relative to the content, which the border surrounds.
            gutter, (width, height) = self.styles.gutter, self.outer_size
            top = Region(-gutter.left, -gutter.top, width, 1)
            return super().refresh(top, top.translate((0, height - 1)))
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def title_for(self, state: SourceState) -> str:
        return self.TITLE

    def show_data(self, state: SourceState, snapshot: Snapshot) -> None:
        raise NotImplementedError
