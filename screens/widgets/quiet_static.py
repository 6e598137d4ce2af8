"""A Static that redraws only when its text really changed.

Every redraw is bytes down the operator's SSH link; a panel that polls every two seconds
but shows the same thing should send nothing.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


def text_key(text: Text | None) -> tuple | None:
    """What makes two Texts look the same on screen (Text equality ignores the base style)."""
    if text is None:
        return None
    return (text.plain, str(text.style), tuple((span.start, span.end, str(span.style)) for span in text.spans))


class QuietStatic(Static):
    _shown: tuple | None = None

    def show_text(self, text: Text) -> None:
        key = text_key(text)
        if key != self._shown:
            self._shown = key
            self.update(text)
