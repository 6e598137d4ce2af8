"""Properties of the runbook parser over generated Markdown: headings (ATX and setext),
paragraphs, bulleted, numbered and task lists nested in each other, fenced code and HTML
comments. Whatever the mix, parsing never raises, step keys and section slugs are unique,
every generated word is shown, no comment is, the ticked steps are exactly the `[x]`
items, and paragraphs and steps outside any list item are shown in the order written.
Random text and bytes must not raise either."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from console.runbooks import load_runbook, parse_runbook, runbook_text
from tests.runbook_words import missing_words

FUZZ = settings(max_examples=150, deadline=None)

WORDS = st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=7)
HIDDEN = st.integers(0, 999).map(lambda n: f"hiddenzq{n}")  # never shown: only in comments


@dataclass
class Doc:
    """Markdown written so far, with what the parser must make of it."""

    lines: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    hidden: list[str] = field(default_factory=list)
    ticked: int = 0
    order: list[str] = field(default_factory=list)
    """A word that starts each paragraph and step outside any list item, in source order."""

    def block(self, lines: list[str], indent: str = "") -> None:
        self.lines += [f"{indent}{line}" if line else "" for line in lines] + [""]


def phrase(draw: st.DrawFn, doc: Doc, ordered: bool = False) -> str:
    words = draw(st.lists(WORDS, min_size=1, max_size=5))
    if ordered:  # letters and digits only: no markup, and unlike any other word
        doc.order.append(f"orderzq{len(doc.order)}")
        words.insert(0, doc.order[-1])
    doc.words += words
    return " ".join(words)


def write_list(draw: st.DrawFn, doc: Doc, indent: str, depth: int) -> None:
    ordered = draw(st.booleans())
    start = draw(st.integers(1, 12)) if ordered else 1
    for number in range(start, start + draw(st.integers(1, 3))):
        marker = f"{number}. " if ordered else "- "
        box = draw(st.sampled_from(["", "[ ] ", "[x] ", "[X] "]))
        doc.ticked += box in ("[x] ", "[X] ")
        doc.block([f"{marker}{box}{phrase(draw, doc, ordered=depth == 0)}"], indent)
        inner = indent + " " * len(marker)
        for _ in range(draw(st.integers(0, 2))):
            write_block(draw, doc, inner, depth + 1, in_item=True)


def write_block(draw: st.DrawFn, doc: Doc, indent: str, depth: int, in_item: bool = False) -> None:
    kinds = ["paragraph", "code", "list" if depth < 3 else "paragraph"]
    if not in_item:
        kinds += ["atx", "setext", "comment"]
    kind = draw(st.sampled_from(kinds))
    if kind == "paragraph":
        doc.block([phrase(draw, doc, ordered=depth == 0), phrase(draw, doc)], indent)
    elif kind == "code":
        doc.block(["```", phrase(draw, doc), "```"], indent)
    elif kind == "list":
        write_list(draw, doc, indent, depth)
    elif kind == "atx":
        doc.block([f"{'#' * draw(st.integers(1, 4))} {phrase(draw, doc)}"])
    elif kind == "setext":
        doc.block([phrase(draw, doc), draw(st.sampled_from(["===", "---"]))])
    else:
        hidden = draw(st.lists(HIDDEN, min_size=1, max_size=3))
        doc.hidden += hidden
        doc.block([f"<!-- {' '.join(hidden)}", "-->"])


@st.composite
def documents(draw: st.DrawFn) -> Doc:
    doc = Doc()
    for _ in range(draw(st.integers(0, 8))):
        write_block(draw, doc, "", 0)
    return doc


@FUZZ
@given(documents())
def test_generated_runbooks_keep_every_word_and_tick(doc):
    markdown = "\n".join(doc.lines)
    runbook = parse_runbook(markdown, Path("fuzz.md"), "fuzz")
    shown = runbook_text(runbook)
    keys = [step.key for step in runbook.steps()]
    assert len(keys) == len(set(keys))
    assert len({section.slug for section in runbook.sections}) == len(runbook.sections)
    assert set(doc.words) <= set(re.findall(r"\w+", shown.casefold()))
    assert not missing_words(markdown, shown)
    assert not any(word in shown for word in doc.hidden)
    assert sum(step.checked for step in runbook.steps()) == doc.ticked
    # Text before, between and after the lists reads where it was written, among the steps.
    shown_words = re.findall(r"\w+", shown)
    assert [word for word in shown_words if word in doc.order] == doc.order


MARKUP = st.sampled_from([*"#-*+>`~[]()!<>|=:_\\\n \t1.x", "[x] ", "```", "<!--", "-->", "action:", "](", "&amp;", "\x00", "\ufeff"])


@FUZZ
@given(st.lists(MARKUP | st.text(max_size=20), max_size=40).map("".join))
def test_any_text_parses_without_raising(text):
    runbook = parse_runbook(text, Path("any.md"), "any")
    runbook_text(runbook)
    keys = [step.key for step in runbook.steps()]
    assert len(keys) == len(set(keys))


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_load_without_raising(tmp_path_factory, data):
    directory = tmp_path_factory.mktemp("bytes")
    (directory / "x.md").write_bytes(data)
    runbook = load_runbook(directory / "x.md", directory)
    assert runbook.id == "x"
