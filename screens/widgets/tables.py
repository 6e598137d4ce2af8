"""DataTable helpers: literal cells and in-place updates.

Backend text goes into cells as `Text`, never `str`: DataTable parses `str` as markup.
Tables are updated cell by cell (not cleared and rebuilt) so the cursor and scroll
position survive a refresh and the terminal only redraws what changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.geometry import Region
from textual.widgets import DataTable
from typing_extensions import Self

from console.text import plain
from screens.widgets.quiet_static import text_key
from screens.widgets.repaint import Cells, changed_span, strip_cells


def cell(value: object, style: str = "", limit: int | None = 200) -> Text:
    # One leading space instead of DataTable's two-sided padding: columns sit one space
    # apart, as in `ps`, so five columns fit in half of an 80-column terminal.
    return Text(" " + plain(value, limit), style=style, no_wrap=True, overflow="ellipsis", end="")


class LiveTable(DataTable):
    """A DataTable that repaints only the lines that changed, and whose rows never stay
    drawn at an old column width.

    DataTable repaints the whole table when any cell changes, or a row comes or goes:
    on a refreshing dashboard that is every line of every table, every refresh, down the
    operator's SSH link. Here a full repaint becomes a repaint of the cells whose
    rendering differs from what was last painted.

    Textual caches a rendered cell without its width. When a render lands between
    `add_row` and the idle-time width update, the wider column is drawn with stale,
    truncated cells; dropping the caches when a width changed avoids that.
    """

    _painted: list[Cells | None] = []  # replaced, never mutated, until painted once
    """The lines as last painted (None: not known), for the current `_painted_key`."""
    _painted_key: tuple | None = None
    _diff_scheduled = False

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False) -> Self:
        if regions or recompose or not repaint or not self.is_mounted:
            for region in regions:  # repainted by someone else: no longer known
                for y in range(max(0, region.y), min(len(self._painted), region.bottom)):
                    self._painted[y] = None
            return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)
        if layout:
            super().refresh(repaint=False, layout=True)
        if not self._diff_scheduled:
            self._diff_scheduled = True
            self.call_later(self._repaint_changed_cells)
        return self

    def _repaint_changed_cells(self) -> None:
        self._diff_scheduled = False
        width, height = self.size
        key = (self.size, self.scroll_offset, self.rich_style)
        lines = [strip_cells(self.render_line(y)) for y in range(height)]
        old = self._painted if key == self._painted_key else []
        self._painted, self._painted_key = lines, key
        regions = []
        for y, line in enumerate(lines):
            span = changed_span(old[y] if y < len(old) else None, line, width)
            if span is not None:
                regions.append(Region(span[0], y, span[1] - span[0], 1))
        if len(regions) == height and all(region.width == width for region in regions):
            super().refresh()
        elif regions:
            super().refresh(*regions)

    _widths_before: list[int] | None = None

    def _widths(self) -> list[int]:
        return [column.get_render_width(self) for column in self.columns.values()]

    # On idle, DataTable measures updated cells, then new rows; either may widen a column.
    def _update_column_widths(self, updated_cells) -> None:  # type: ignore[no-untyped-def]
        self._widths_before = self._widths()
        super()._update_column_widths(updated_cells)

    def _update_dimensions(self, new_rows) -> None:  # type: ignore[no-untyped-def]
        before = self._widths_before or self._widths()
        self._widths_before = None
        super()._update_dimensions(new_rows)
        if before != self._widths():
            self._clear_caches()
            self.refresh()


def make_table(columns: Sequence[tuple[str, str]]) -> DataTable:
    """A row-cursor table with (key, heading) columns, spaced like `ps`."""
    table = LiveTable(cursor_type="row", cell_padding=0)
    for key, heading in columns:
        table.add_column(Text(" " + heading, style="bold"), key=key)
    return table


LIVE_ROWS = 200
"""At most this many rows in a dashboard table (the most urgent first); its panel title
counts them all. Nobody scrolls 5 000 leases on a dashboard, and a DataTable that large
costs seconds per refresh."""
MAX_REMOVALS = 20  # each removal renumbers every row: past this, rebuilding is cheaper


def sync_rows(table: DataTable, rows: Mapping[str, Sequence[Text]]) -> None:
    """Make `table` show `rows` (key → cells, in order), touching only what changed.

    Rows that went away are removed and new rows appended; only when the order changed
    otherwise is the table rebuilt, so a steady list costs no redraw at all.
    """
    gone = [key.value for key in table.rows if key.value not in rows]
    if len(gone) > MAX_REMOVALS:
        table.clear()
    for key in gone if len(gone) <= MAX_REMOVALS else ():
        table.remove_row(key)
    existing = [str(key.value) for key in table.rows]
    if existing != list(rows)[: len(existing)]:
        table.clear()
        existing = []
    kept = set(existing)
    columns = list(table.columns.items())
    for key, cells in rows.items():
        if key not in kept:
            table.add_row(*cells, key=key)
            continue
        for (column_key, column), before, after in zip(columns, table.get_row(key), cells):
            if not isinstance(before, Text) or text_key(before) != text_key(after):
                # Widen a column for a longer cell but never narrow it on a refresh:
                # narrowing measures the whole column for every changed cell (slow on
                # big tables), and steady widths redraw less.
                table.update_cell(key, column_key, after, update_width=after.cell_len > column.content_width)
