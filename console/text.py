"""Making untrusted text (ids, messages, payloads from a backend) safe to put on a terminal.

An error message may carry ANSI or OSC escape sequences, bidi overrides or zero-width
characters. They are made visible instead of being interpreted, so what reaches the
terminal is exactly what the operator reads.
"""

from __future__ import annotations

import re

# Invisible or reordering characters that could make a displayed id lie.
_FORMAT_CHARS = "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff"
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{_FORMAT_CHARS}]")


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # Unicode control pictures: ESC shows as ␛
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"<U+{code:04X}>"


def plain(value: object, limit: int | None = None) -> str:
    """`value` as one line of inert text; `limit` truncates with an ellipsis."""
    text = "" if value is None else str(value)
    text = _UNSAFE.sub(_visible, text)
    if limit is not None and len(text) > limit:
        text = text[: max(0, limit - 1)] + "…"
    return text
