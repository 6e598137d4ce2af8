"""Finding the cells that changed between two renderings of a line.

Textual repaints a whole widget when its content changes. On a dashboard that refreshes
every two seconds that is most of the screen at every refresh, all of it bytes down the
operator's SSH link. Widgets here compare what they would draw with what they drew and
ask Textual to repaint only the span of cells that differs.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.strip import Strip

Cells = tuple[tuple[str, Any], ...]
"""(character, style) per cell of one line."""


def strip_cells(strip: Strip) -> Cells | None:
    """The cells of a rendered line; None when some character is not one cell wide."""
    cells = [(char, segment.style) for segment in strip if not segment.control for char in segment.text]
    return tuple(cells) if len(cells) == strip.cell_length else None


def text_cells(line: Text, width: int) -> Cells | None:
    """The cells a one-line Text draws from column 0; None when that is not plain to see
    (wide characters, or longer than `width` so that overflow rules apply)."""
    plain = line.plain
    if len(plain) > width or cell_len(plain) != len(plain):
        return None
    styles = [str(line.style)] * len(plain)
    for span in line.spans:
        for index in range(span.start, min(span.end, len(plain))):
            styles[index] += f"|{span.style}"
    return tuple(zip(plain, styles))


def changed_span(old: Cells | None, new: Cells | None, width: int) -> tuple[int, int] | None:
    """[start, end) of the cells that differ, None when none do; the whole width when
    either side is unknown. Past the shorter line, cells differ (one side is padding)."""
    if old is None or new is None:
        return (0, width)
    if old == new:
        return None
    shorter = min(len(old), len(new))
    start = next((i for i in range(shorter) if old[i] != new[i]), shorter)
    end = max(len(old), len(new))
    if len(old) == len(new):
        end = next(i for i in range(len(new), 0, -1) if old[i - 1] != new[i - 1])
    return (start, min(end, width))
