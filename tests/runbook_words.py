""""Nothing is lost": the words of a Markdown source, markup and HTML comments left out,
to compare with what the console shows (`runbook_text`). Deliberately not markdown-it:
an independent reading of the source, so the parser cannot agree with itself."""

from __future__ import annotations

import html
import re

_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_PREFIX = r"^[ \t]*(?:>[ \t]*)*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)?[ \t]*"
# A fence's language tag (```bash) is markup: a step's command is what sits inside it.
_FENCE_INFO = re.compile(_PREFIX + r"(?:`{3,}|~{3,})[^`\n]*$", re.MULTILINE)
# So is a list marker's number (steps are numbered by position) and a task box.
_LIST_MARKER = re.compile(r"^[ \t]*(?:>[ \t]*)*(?:[-*+]|\d{1,9}[.)])(?=[ \t]|$)", re.MULTILINE)
_WORD = re.compile(r"\w+")


def source_words(markdown: str) -> set[str]:
    text = _TAG.sub(" ", _COMMENT.sub(" ", markdown))
    text = _LIST_MARKER.sub(" ", _FENCE_INFO.sub(" ", text))
    return {word.casefold() for word in _WORD.findall(html.unescape(text))}


def missing_words(markdown: str, shown: str) -> set[str]:
    """Words of `markdown` that `shown` does not contain."""
    return source_words(markdown) - {word.casefold() for word in _WORD.findall(shown)}
