"""Splitting prose into the sentences the detector scores, with offsets into the original text.

Markdown and hand-typed text wrap long sentences over several lines, so a line break alone does
not end a sentence: the lines of a paragraph are read as one unit and split at ``.``, ``!`` or
``?`` followed by whitespace and something that starts a new sentence. A blank line ends a
paragraph, and a line that starts a block of its own starts a new unit: a list item (``- ``,
``* ``, ``1. ``), a heading (``# ``), a table row (``| ... |``), a code fence and a timeline
line that opens with a time or a date (``14:02 ...``, ``2026-03-09 ...``). Headings, table rows
and fences are one line each; a list item or a timeline line takes the indented or
plain lines that follow it (its wrapped continuation) until the next block or blank line.

A :class:`Sentence` keeps its ``start``/``end`` in the text it came from and ``text`` is exactly
``original[start:end]`` (a wrapped sentence keeps its line break inside), so a phrase found in a
sentence maps back to the original by adding ``start``. A list marker is not part of its item's
sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Inside a unit: end punctuation, whitespace (a line break counts), then a new sentence's start;
# "e.g." and "v1.2" are not followed by a capital or a digit after a space.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'\u201c(\[]?[A-Z0-9])")
_LINE = re.compile(r"[^\n]*\n?")
_LIST = re.compile(r"[ \t]*(?:[-*+\u2022]|\d{1,3}[.)])[ \t]+")
_TIME = re.compile(r"[ \t]*(?:\*\*|__)?(?:\d{1,2}:\d{2}|\d{4}-\d{2}-\d{2}|T[+-]\d)")
_ONE_LINE = re.compile(r"[ \t]*(?:#{1,6}(?:[ \t]|$)|\||```|~~~)")


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence of a text and where it sits in it."""

    start: int
    end: int
    text: str


def sentences(text: str) -> list[Sentence]:
    """The sentences of ``text`` with their offsets; blank pieces are dropped."""
    out: list[Sentence] = []
    for start, end in units(text):
        pos = start
        for m in _SENTENCE_END.finditer(text, start, end):
            _add(out, text, pos, m.start())
            pos = m.end()
        _add(out, text, pos, end)
    return out


def units(text: str) -> list[tuple[int, int]]:
    """Offsets of the paragraphs and blocks of ``text`` (see the module docstring)."""
    out: list[tuple[int, int]] = []
    start: int | None = None  # where the open unit starts (one-line blocks close at once)
    for m in _LINE.finditer(text):
        line_start = m.start()
        if line_start == len(text):
            break
        line = m.group(0).rstrip("\n")
        content_end = line_start + len(line)
        if not line.strip():
            _close(out, start, line_start)
            start = None
            continue
        one_line = _ONE_LINE.match(line) is not None
        opens = one_line or bool(_LIST.match(line) or _TIME.match(line))
        if start is not None and opens:
            _close(out, start, line_start)
            start = None
        if start is None:
            marker = _LIST.match(line)
            start = line_start + (marker.end() if marker else 0)
        if one_line:
            _close(out, start, content_end)
            start = None
    _close(out, start, len(text))
    return out


def _close(out: list[tuple[int, int]], start: int | None, end: int) -> None:
    if start is not None and start < end:
        out.append((start, end))


def _add(out: list[Sentence], text: str, start: int, end: int) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return
    lead = len(piece) - len(piece.lstrip())
    out.append(Sentence(start + lead, start + lead + len(stripped), stripped))
