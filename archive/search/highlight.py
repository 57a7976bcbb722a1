"""Snippets: a segment's text (or a description's matching sentence) as HTML, escaped, with the
words that matched in <mark>."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from archive.search import analysis


@dataclass
class Marks:
    """What to mark, gathered from a query's positive terms."""
    stems: set[str] = field(default_factory=set)  #: unquoted words' index terms (analysis.query_terms)
    words: set[str] = field(default_factory=set)  #: quoted single words, matched exactly
    sequences: list[list[str]] = field(default_factory=list)  #: phrases (and CJK words), as folded tokens
    prefixes: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.stems or self.words or self.sequences or self.prefixes)


def _spans(text: str, marks: Marks, language: str = "", fallback: str = "") -> list[tuple[int, int]]:
    toks = list(analysis.tokens(text))
    spans: list[tuple[int, int]] = []
    for tok in toks:
        t = tok.text
        if (t in marks.words or (marks.stems and t not in analysis.STOPWORDS
                                 and analysis.stem(t, analysis.word_language(t, language, fallback)) in marks.stems)
                or any(t.startswith(p) for p in marks.prefixes)):
            spans.append((tok.start, tok.end))
    texts = [t.text for t in toks]
    for seq in marks.sequences:
        n = len(seq)
        for i in range(len(texts) - n + 1):
            if texts[i] == seq[0] and texts[i:i + n] == seq:
                spans.append((toks[i].start, toks[i + n - 1].end))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def snippet(text: str, marks: Marks, *, width: int = 240, language: str = "", fallback: str = "") -> str:
    """HTML of `text` (or of about `width` characters around the first match), matches in <mark>.

    `language` and `fallback` are the stemmers the text was indexed with (analysis.stems_of)."""
    spans = _spans(text, marks, language, fallback) if marks else []
    begin, end = 0, len(text)
    if len(text) > width:
        first = spans[0][0] if spans else 0
        begin = max(0, first - width // 3)
        if begin:
            space = text.find(" ", begin)
            begin = space + 1 if 0 <= space < first else begin
        end = min(len(text), begin + width)
        if end < len(text):
            space = text.rfind(" ", begin, end)
            end = space if space > (spans[0][1] if spans else begin) else end
    out = ["…" if begin else ""]
    at = begin
    for start, stop in spans:
        if stop <= begin or start >= end:
            continue
        start, stop = max(start, begin), min(stop, end)
        out.append(html.escape(text[at:start]))
        out.append(f"<mark>{html.escape(text[start:stop])}</mark>")
        at = stop
    out.append(html.escape(text[at:end]))
    if end < len(text):
        out.append("…")
    return "".join(out).replace("\n", " ")


#: Where a sentence ends: after . ! ? and a space, or after a CJK full stop.
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|(?<=[。！？])\s*|\n\s*\n")


def sentence_snippet(text: str, marks: Marks, *, width: int = 240, language: str = "", fallback: str = "") -> str:
    """HTML of the sentence of `text` holding most matches (the first of those), or "" when none does;
    `language` and `fallback` as for `snippet`."""
    if not marks:
        return ""
    best, most = "", 0
    for sentence in _SENTENCE_END.split(text):
        found = len(_spans(sentence, marks, language, fallback))
        if found > most:
            best, most = sentence.strip(), found
    return snippet(best, marks, width=width, language=language, fallback=fallback) if most else ""
