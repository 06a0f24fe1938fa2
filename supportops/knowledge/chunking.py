"""Heading-aware chunking of Markdown articles into searchable passages."""

from __future__ import annotations

import re
from dataclasses import dataclass

HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")
# Passages stay under the embedding model's 256-token window (about 1,000 characters).
MAX_CHARS = 900
MIN_CHARS = 200


@dataclass(frozen=True)
class Passage:
    heading: str  # "Section > Subsection", empty for the article's lead
    text: str


def _sections(body: str) -> list[tuple[list[str], list[str]]]:
    """Split Markdown into (heading path, lines) sections; headings inside code fences are text."""
    sections: list[tuple[list[str], list[str]]] = [([], [])]
    path: list[tuple[int, str]] = []
    in_fence = False
    for line in body.splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else HEADING.match(line)
        if match:
            level, title = len(match.group(1)), match.group(2).strip()
            path = [(lvl, t) for lvl, t in path if lvl < level] + [(level, title)]
            sections.append(([t for _, t in path], []))
        else:
            sections[-1][1].append(line)
    return sections


def _paragraphs(lines: list[str]) -> list[str]:
    text = "\n".join(lines).strip()
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def _split_long(paragraph: str) -> list[str]:
    if len(paragraph) <= MAX_CHARS:
        return [paragraph]
    sentences = re.split(r"(?<=[.!?])\s+", paragraph)
    pieces: list[str] = []
    current = ""
    for sentence in sentences:
        while len(sentence) > MAX_CHARS:  # a run-on line with no sentence breaks
            cut = sentence.rfind(" ", 0, MAX_CHARS)
            cut = cut if cut > MAX_CHARS // 2 else MAX_CHARS
            if current:
                pieces.append(current)
                current = ""
            pieces.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if current and len(current) + len(sentence) + 1 > MAX_CHARS:
            pieces.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        pieces.append(current)
    return pieces


def chunk_markdown(body: str) -> list[Passage]:
    """Passages of at most MAX_CHARS, never crossing a heading; short neighbours are merged."""
    passages: list[Passage] = []
    for path, lines in _sections(body):
        heading = " > ".join(path)
        current = ""
        for paragraph in _paragraphs(lines):
            for piece in _split_long(paragraph):
                if current and len(current) + len(piece) + 2 > MAX_CHARS:
                    passages.append(Passage(heading, current))
                    current = piece
                else:
                    current = f"{current}\n\n{piece}".strip()
        if current:
            passages.append(Passage(heading, current))
        elif path and not any(line.strip() for line in lines):
            continue
    return _merge_short(passages)


def _merge_short(passages: list[Passage]) -> list[Passage]:
    """Fold a tiny passage into the previous one of the same section path prefix."""
    merged: list[Passage] = []
    for passage in passages:
        if (
            merged
            and len(passage.text) < MIN_CHARS
            and len(merged[-1].text) + len(passage.text) + 2 <= MAX_CHARS
            and passage.heading.startswith(merged[-1].heading)
        ):
            prev = merged[-1]
            extra = (
                f"{passage.heading.split(' > ')[-1]}\n" if passage.heading != prev.heading else ""
            )
            merged[-1] = Passage(prev.heading, f"{prev.text}\n\n{extra}{passage.text}")
        else:
            merged.append(passage)
    return merged
