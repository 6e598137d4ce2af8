"""Making untrusted text (ids, messages, payloads from a backend) safe to put on a terminal.

An error message may carry ANSI or OSC escape sequences, bidi overrides or zero-width
characters. They are made visible instead of being interpreted, so what reaches the
terminal is exactly what the operator reads.
"""

from __future__ import annotations

import re

# Every character of the Unicode categories Cc (controls, C0 and C1), Cf (invisible
# format characters: bidi overrides, zero-width joiners, tag characters), Zl and Zp (line
# and paragraph separators) and Cs (lone surrogates, which cannot even be encoded for the
# terminal). Any of them could erase the screen or make a displayed id lie.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ud800-\udfff\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f]"
)


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
