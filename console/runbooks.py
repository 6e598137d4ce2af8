"""Markdown runbooks → the checklist model of console/runbook_model.py.

Headings become sections (text before the first heading is a level-0 section); ordered
and bulleted lists become steps, nested lists nested steps; `- [ ]` / `- [x]` items start
unticked / ticked. Fenced and inline code belong to their step as commands. Paragraphs,
quotes and tables are kept where they stand: a section's `text` before its first list, a
step's `detail` inside a list item or between two lists (a list that goes on at 3. after a
paragraph), the section's `after` past its last list. A link `[label](action:NAME)` or
`[label](signal:NAME)` in a step becomes a `StepLink`.

Nothing the author wrote is dropped except markup and HTML comments: `runbook_text()`
renders everything parsed, and what would import badly is listed in `Runbook.problems`
(`opsconsole runbook lint`). Reading never raises: a file that cannot be read or decoded
is a Runbook with problems.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

from console.runbook_model import Runbook, Section, Step, StepLink

_MARKDOWN = MarkdownIt("commonmark").enable("table")
_TASK = re.compile(r"\[([ xX])\](?:[ \t]+|$)")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_STEP_SCHEMES = ("action", "signal")
# Schemes written `scheme:thing` (no "//") that are not a typo of a step link.
_OPAQUE_SCHEMES = ("mailto", "tel", "urn", "news")
_BREAK = re.compile(r"<br\b", re.IGNORECASE)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_LISTS = ("bullet_list", "ordered_list")
_CODE = ("fence", "code_block")


@dataclass
class _StepDraft:
    line: int
    text: str = ""
    checked: bool = False
    commands: list[str] = field(default_factory=list)
    detail: list[str] = field(default_factory=list)
    steps: list[_StepDraft] = field(default_factory=list)
    links: list[StepLink] = field(default_factory=list)

    def freeze(self, prefix: str) -> Step:
        return Step(
            key=prefix,
            text=self.text,
            checked=self.checked,
            commands=tuple(self.commands),
            detail="\n".join(self.detail),
            steps=tuple(child.freeze(f"{prefix}.{n}") for n, child in enumerate(self.steps, 1)),
            links=tuple(self.links),
        )


@dataclass
class _SectionDraft:
    title: str
    level: int
    line: int
    parent: _SectionDraft | None = None
    text: list[str] = field(default_factory=list)
    steps: list[_StepDraft] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    after_list: list[SyntaxTreeNode] = field(default_factory=list)
    """Blocks after a list, held until we know whether another list follows (then they
    belong to the step above them) or the section ends (then they come after its steps)."""


class _Reader:
    """One pass over a document's syntax tree; collects sections and problems."""

    def __init__(self) -> None:
        self.problems: list[tuple[int, str]] = []
        """(line, what is wrong): sorted by line in the result."""
        self.sections: list[_SectionDraft] = []
        self.section = _SectionDraft("", 0, 1)

    # -- blocks ---------------------------------------------------------------------------

    def read(self, root: SyntaxTreeNode) -> None:
        for node in root.children:
            if node.type == "heading":
                self._close_section()
                self._open_section(node)
            elif node.type in _LISTS:
                self._list(node)
            elif self.section.steps:
                self.section.after_list.append(node)
            else:
                self._to_text(node, self.section.text)
        self._close_section()

    def _open_section(self, node: SyntaxTreeNode) -> None:
        level = int(node.tag[1])
        parent = self.sections[-1] if self.sections else None
        while parent is not None and parent.level >= level:
            parent = parent.parent
        title = self._inline(node.children[0], None, _line(node))
        self.section = _SectionDraft(title, level, _line(node), parent)

    def _close_section(self) -> None:
        for node in self.section.after_list:
            self._to_text(node, self.section.after)
        self.section.after_list.clear()
        if self.section.level or self.section.text or self.section.steps:
            self.sections.append(self.section)

    def _to_text(self, node: SyntaxTreeNode, into: list[str]) -> None:
        text = self._block_text(node, None)
        if text:
            into.append(text)

    def _list(self, node: SyntaxTreeNode) -> None:
        # Keys keep counting through every list of a section, so what stands between two
        # lists ("Actions:", a paragraph before "3.") sits between two numbered steps: it
        # is the earlier step's detail and is shown right there, in reading order.
        section = self.section
        held, section.after_list = section.after_list, []
        for block in held:
            self._into_step(section.steps[-1], block)
        section.steps.extend(self._items(node))

    def _items(self, node: SyntaxTreeNode) -> list[_StepDraft]:
        return [self._step(item) for item in node.children]

    def _step(self, item: SyntaxTreeNode) -> _StepDraft:
        step = _StepDraft(_line(item))
        blocks = list(item.children)
        if blocks and blocks[0].type == "paragraph":
            inline = blocks.pop(0).children[0]
            marker = _TASK.match(inline.content)
            text = self._inline(inline, step, step.line)
            if marker:
                step.checked = marker.group(1) != " "
                text = _TASK.sub("", text, count=1)
            step.text = text.strip()
        for block in blocks:
            self._into_step(step, block)
        if not (step.text or step.commands or step.detail or step.steps):
            self.problems.append((step.line, f"empty step{self._where()}"))
        return step

    def _into_step(self, step: _StepDraft, block: SyntaxTreeNode) -> None:
        if block.type in _LISTS:
            step.steps.extend(self._items(block))
        elif block.type in _CODE:
            step.commands.append(block.content.rstrip("\n"))
        else:
            text = self._block_text(block, step)
            if text:
                step.detail.append(text)

    def _block_text(self, node: SyntaxTreeNode, step: _StepDraft | None) -> str:
        """A block as plain text: what a section's `text` or a step's `detail` holds."""
        kind = node.type
        if kind in ("paragraph", "heading"):
            return self._inline(node.children[0], step, _line(node))
        if kind in _CODE:
            return f"```{node.info}\n{node.content.rstrip(chr(10))}\n```"
        if kind == "blockquote":
            inner = "\n".join(filter(None, (self._block_text(child, step) for child in node.children)))
            return "\n".join(f"> {line}" if line else ">" for line in inner.split("\n"))
        if kind in _LISTS:
            first = int(node.attrs.get("start", 1))
            return "\n".join(self._item_text(item, n, kind, step) for n, item in enumerate(node.children, first))
        if kind == "table":  # one line per row, cells between " | "
            rows = [row for part in node.children for row in part.children]
            cells = [[self._inline(cell.children[0], step, _line(node)) if cell.children else "" for cell in row.children] for row in rows]
            return "\n".join(" | ".join(row) for row in cells)
        if kind == "html_block":
            return self._html(node)
        return ""  # thematic break: markup only

    def _item_text(self, item: SyntaxTreeNode, number: int, kind: str, step: _StepDraft | None) -> str:
        # A list inside a quote stays quoted text, not steps to tick.
        marker = f"{number}." if kind == "ordered_list" else "-"
        inner = "\n".join(filter(None, (self._block_text(child, step) for child in item.children)))
        lines = inner.split("\n")
        return "\n".join([f"{marker} {lines[0]}", *(f"  {line}" for line in lines[1:])])

    def _html(self, node: SyntaxTreeNode) -> str:
        content = node.content
        start = content.find("<!--")
        if start >= 0 and "-->" not in content[start:]:
            self.problems.append((_line(node), "HTML comment never closed: everything after it is hidden"))
        return re.sub(r"<!--.*", "", _COMMENT.sub("", content), flags=re.DOTALL).strip()

    # -- inline ---------------------------------------------------------------------------

    def _inline(self, node: SyntaxTreeNode, step: _StepDraft | None, line: int) -> str:
        """Inline content as text; code spans and step links also go to `step`."""
        parts: list[str] = []
        for child in node.children:
            kind = child.type
            if kind == "text":
                parts.append(child.content)
            elif kind == "code_inline":
                ticks = "``" if "`" in child.content else "`"
                parts.append(f"{ticks}{child.content}{ticks}")
                if step is not None:
                    step.commands.append(child.content)
            elif kind == "softbreak":
                parts.append(" ")
            elif kind == "hardbreak":
                parts.append("\n")
            elif kind == "link":
                parts.append(self._link(child, step, line))
            elif kind == "image":
                parts.append(self._labelled(self._inline(child, step, line), child.attrs.get("src", "")))
            elif kind == "html_inline":  # tags are markup, comments are hidden; <br> still breaks
                parts.append("\n" if _BREAK.match(child.content) else "")
            else:  # emphasis and the like: keep the words, drop the markup
                parts.append(self._inline(child, step, line))
        return "".join(parts)

    def _link(self, node: SyntaxTreeNode, step: _StepDraft | None, line: int) -> str:
        label = self._inline(node, step, line)
        href = str(node.attrs.get("href", ""))
        scheme = _SCHEME.match(href)
        kind = scheme.group(1).lower() if scheme else ""
        if kind in _STEP_SCHEMES:
            name = _MARKDOWN.normalizeLinkText(href[scheme.end() :]).strip()  # type: ignore[union-attr]
            if not name:
                self.problems.append((line, f"link {href!r} names no {kind}"))
            elif step is None:
                self.problems.append((line, f"{kind} link {href!r} is outside any step, so the console cannot offer it"))
            else:
                step.links.append(StepLink(kind, name, label.strip() or name))  # type: ignore[arg-type]
                return label or name
        elif scheme and kind not in _OPAQUE_SCHEMES and not href[scheme.end() :].startswith("//"):
            self.problems.append((line, f"link {href!r} has unknown scheme {kind + ':'!r} (step links are action: or signal:)"))
        return self._labelled(label, href)

    @staticmethod
    def _labelled(label: str, href: str) -> str:
        shown = _MARKDOWN.normalizeLinkText(href)
        if not shown or shown in (label, f"mailto:{label}"):
            return label
        return f"{label} ({shown})" if label else shown

    # -- the result -----------------------------------------------------------------------

    def _where(self) -> str:
        return f" in section {self.section.title!r}" if self.section.title else ""

    def runbook(self, runbook_id: str, path: Path) -> Runbook:
        headings = [draft for draft in self.sections if draft.level]
        if not headings:
            self.problems.append((0, "no heading: the whole file is one untitled section" if self.sections else "empty: nothing to show"))
        sections = []
        slugs: set[str] = set()
        seen: set[tuple[int, str]] = set()
        for index, draft in enumerate(self.sections):
            slug = _unique(_slug(draft.title) or ("top" if draft.level == 0 else "section"), slugs)
            following = self.sections[index + 1] if index + 1 < len(self.sections) else None
            # No need to look at `after`: there is text after the steps only when there are steps.
            if draft.level and not (draft.text or draft.steps) and (following is None or following.level <= draft.level):
                self.problems.append((draft.line, f"section {draft.title!r} has neither text nor steps"))
            family = (id(draft.parent), draft.title.casefold())
            if draft.level and family in seen:
                self.problems.append((draft.line, f"heading {draft.title!r} repeats one above it at the same level; this one is {slug!r}"))
            seen.add(family)
            steps = tuple(step.freeze(f"{slug}/{n}") for n, step in enumerate(draft.steps, 1))
            sections.append(Section(draft.title, draft.level, slug, "\n".join(draft.text), steps, "\n".join(draft.after)))
        title = headings[0].title if headings else path.stem
        problems = tuple(f"line {line}: {text}" if line else text for line, text in sorted(self.problems, key=lambda p: p[0]))
        return Runbook(runbook_id, path, title or path.stem, tuple(sections), problems)


def _line(node: SyntaxTreeNode) -> int:
    return node.map[0] + 1 if node.map else 0


def _slug(title: str) -> str:
    return "-".join(re.findall(r"\w+", title.lower()))


def _unique(slug: str, taken: set[str]) -> str:
    candidate, n = slug, 1
    while candidate in taken:
        n += 1
        candidate = f"{slug}-{n}"
    taken.add(candidate)
    return candidate


def parse_runbook(text: str, path: Path, runbook_id: str) -> Runbook:
    """The runbook written in `text` (Markdown). Never raises; see `Runbook.problems`."""
    reader = _Reader()
    reader.read(SyntaxTreeNode(_MARKDOWN.parse(text)))
    return reader.runbook(runbook_id, path)


def load_runbook(path: Path, root: Path) -> Runbook:
    """The runbook in file `path`; its id is the path below `root` without ".md"."""
    runbook_id = path.relative_to(root).with_suffix("").as_posix()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return Runbook(runbook_id, path, path.stem, problems=(f"cannot read: {exc.strerror or exc}",))
    try:
        text, problem = raw.decode("utf-8-sig"), ""
    except UnicodeDecodeError as exc:
        # Show what can be shown; the bad bytes become U+FFFD and the writer is told where.
        text = raw.decode("utf-8-sig", errors="replace")
        problem = f"not UTF-8: byte 0x{raw[exc.start]:02x} at offset {exc.start} ({exc.reason}); shown as \ufffd"
    runbook = parse_runbook(text, path, runbook_id)
    if problem:
        runbook = Runbook(runbook.id, path, runbook.title, runbook.sections, (problem, *runbook.problems))
    return runbook


def runbook_files(directory: Path) -> list[Path]:
    """Every `.md` file below `directory`, hidden files and folders left out."""
    return sorted(
        path for path in directory.rglob("*.md") if path.is_file() and not any(part.startswith(".") for part in path.relative_to(directory).parts)
    )


def load_runbooks(dirs: Iterable[str | Path]) -> list[Runbook]:
    """Every runbook below `dirs`, sorted by id. A missing directory gives none (check-config says so);
    an id found again in a later directory is kept, with a problem saying the first one wins."""
    found: dict[str, Runbook] = {}
    extra: list[Runbook] = []
    for directory in map(Path, dirs):
        if not directory.is_dir():
            continue
        for path in runbook_files(directory):
            runbook = load_runbook(path, directory)
            first = found.setdefault(runbook.id, runbook)
            if first is not runbook:
                note = f"same id as {first.path}, which comes first and is the one suggestions open"
                extra.append(Runbook(runbook.id, path, runbook.title, runbook.sections, (*runbook.problems, note)))
    return sorted([*found.values(), *extra], key=lambda runbook: runbook.id)


# -- plain text -------------------------------------------------------------------------


def _indented(text: str, prefix: str) -> list[str]:
    return [f"{prefix}{line}".rstrip() for line in text.split("\n")]


def _step_lines(step: Step, depth: int) -> list[str]:
    pad = "  " * depth
    position = step.key.rsplit("/", 1)[-1]
    box = "[x]" if step.checked else "[ ]"
    lines = [f"{pad}{position} {box} {step.text}".rstrip()]
    inner = pad + " " * (len(position) + 5)
    if step.detail:
        lines += _indented(step.detail, inner)
    for command in step.commands:
        first, *rest = command.split("\n")
        lines += [f"{inner}$ {first}".rstrip(), *(f"{inner}  {line}".rstrip() for line in rest)]
    lines += [f"{inner}→ {link.kind} {link.name} ({link.label})" for link in step.links]
    for child in step.steps:
        lines += _step_lines(child, depth + 1)
    return lines


def runbook_text(runbook: Runbook) -> str:
    """The whole runbook as plain text in source order: every section, its text, the steps
    with their nesting, ticks, details, commands and links, then the text after the steps.
    What `opsconsole runbook show` prints."""
    lines = [runbook.title, "=" * len(runbook.title)]
    for section in runbook.sections:
        lines.append("")
        if section.level:
            lines.append(f"{'#' * section.level} {section.title}  [{section.slug}]")
        if section.text:
            lines += _indented(section.text, "")
        for step in section.steps:
            lines += _step_lines(step, 1)
        if section.after:
            lines += _indented(section.after, "")
    return "\n".join(lines) + "\n"
