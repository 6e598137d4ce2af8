"""DataTable helpers: literal cells and in-place updates.

Backend text goes into cells as `Text`, never `str`: DataTable parses `str` as markup.
Tables are updated cell by cell (not cleared and rebuilt) so the cursor and scroll
position survive a refresh and the terminal only redraws what changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.widgets import DataTable

from console.text import plain
from screens.widgets.quiet_static import text_key


def cell(value: object, style: str = "", limit: int | None = 200) -> Text:
    # One leading space instead of DataTable's two-sided padding: columns sit one space
    # apart, as in `ps`, so five columns fit in half of an 80-column terminal.
    return Text(" " + plain(value, limit), style=style, no_wrap=True, overflow="ellipsis", end="")


class LiveTable(DataTable):
    """A DataTable whose rows never stay drawn at an old column width.

    Textual caches a rendered cell without its width. When a render lands between
    `add_row` and the idle-time width update, the wider column is drawn with stale,
    truncated cells; dropping the caches when a width changed avoids that.
    """

    def _update_dimensions(self, new_rows) -> None:  # type: ignore[no-untyped-def]
        before = [column.get_render_width(self) for column in self.columns.values()]
        super()._update_dimensions(new_rows)
        if before != [column.get_render_width(self) for column in self.columns.values()]:
            self._clear_caches()
            self.refresh()


def make_table(columns: Sequence[tuple[str, str]]) -> DataTable:
    """A row-cursor table with (key, heading) columns, spaced like `ps`."""
    table = LiveTable(cursor_type="row", cell_padding=0)
    for key, heading in columns:
        table.add_column(Text(" " + heading, style="bold"), key=key)
    return table


def sync_rows(table: DataTable, rows: Mapping[str, Sequence[Text]]) -> None:
    """Make `table` show `rows` (key → cells, in order), touching only what changed.

    Rows that went away are removed and new rows appended; only when the order changed
    otherwise is the table rebuilt, so a steady list costs no redraw at all.
    """
    columns = list(table.columns)
    for key in [key.value for key in table.rows if key.value not in rows]:
        table.remove_row(key)
    existing = [str(key.value) for key in table.rows]
    if existing != list(rows)[: len(existing)]:
        table.clear()
        existing = []
    kept = set(existing)
    for key, cells in rows.items():
        if key not in kept:
            table.add_row(*cells, key=key)
            continue
        for column, before, after in zip(columns, table.get_row(key), cells):
            if not isinstance(before, Text) or text_key(before) != text_key(after):
                table.update_cell(key, column, after, update_width=True)
