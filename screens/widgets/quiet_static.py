"""A Static that redraws only when its text really changed, and then only the cells that
changed.

Every redraw is bytes down the operator's SSH link; a panel that polls every two seconds
but shows the same thing should send nothing, and a clock going from "data 1s old" to
"data 2s old" should send one character, not the whole line.
"""

from __future__ import annotations

from rich.text import Text
from textual.geometry import Region
from textual.widgets import Static
from typing_extensions import Self

from screens.widgets.repaint import Cells, changed_span, text_cells


def text_key(text: Text | None) -> tuple | None:
    """What makes two Texts look the same on screen (Text equality ignores the base style)."""
    if text is None:
        return None
    return (text.plain, str(text.style), tuple((span.start, span.end, str(span.style)) for span in text.spans))


class QuietStatic(Static):
    _shown: tuple | None = None
    _lines: tuple[Cells | None, ...] = ()
    _repaint: list[Region] | None = None  # set while `update` runs: the only regions to repaint

    def show_text(self, text: Text) -> None:
        key = text_key(text)
        if key == self._shown:
            return
        self._shown = key
        width = self.content_size.width
        lines = tuple(text_cells(line, width) for line in text.split("\n", allow_blank=True))
        before, self._lines = self._lines, lines
        sized = self._sized()
        if sized and self.is_mounted and width and len(before) == len(lines):
            self._repaint = []
            for y, (old, new) in enumerate(zip(before, lines)):
                span = changed_span(old, new, width)
                if span is not None:
                    self._repaint.append(Region(span[0], y, span[1] - span[0], 1))
        try:
            self.update(text, layout=not sized)
        finally:
            self._repaint = None

    def _sized(self) -> bool:
        """Whether the size is set by CSS, not by the content (then no layout is needed)."""
        height, width = self.styles.height, self.styles.width
        return height is not None and not height.is_auto and (width is None or not width.is_auto)

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False) -> Self:
        if self._repaint is not None and not (regions or layout or recompose):
            return super().refresh(*self._repaint) if self._repaint else self
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)
