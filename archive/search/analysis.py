"""How text becomes index terms, the same way for documents, queries and highlighting.

* Words are runs of letters and digits; CJK text (Hangul, Hanzi, kana) is cut into overlapping
  character bigrams, as Chinese and Japanese put no spaces between words and Korean attaches
  particles to them: "압록강을" gives 압록, 록강, 강을, and a query for 압록강 (압록, 록강) finds it.
* Folding: lower case, accents removed (ÉVÉNEMENTS -> evenements), ligatures opened, NFKC widths.
* `stems`: folded words without English stop words, Porter-stemmed (CJK bigrams as they are).
  Searching unquoted words uses them: "evenements" finds "ÉVÉNEMENTS" and "événement".
* `words`: folded words with stop words kept and nothing stemmed, in order. Phrases use which
  word follows which (`neighbours`: "crossed" is followed by "the", "river" preceded by "the"),
  so "crossed the river" never matches "crossed a river"; prefix searches use their first 3
  and 4 letters.

Per-word results are memoised: archives repeat their vocabulary, and stemming dominates.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from whoosh.analysis import STOP_WORDS
from whoosh.lang.porter import stem as porter_stem

# Hangul Jamo and syllables, CJK punctuation-free ideograph blocks, kana (with half-width forms).
_CJK = ("\u1100-\u11ff\u3040-\u309f\u30a0-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
        "\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0002fa1f")
_TOKEN = re.compile(rf"(?P<cjk>[{_CJK}]+)|(?P<word>[^\W_{_CJK}]+)")
_CJK_CHAR = re.compile(rf"[{_CJK}]")

#: A character that ends a run of text: no phrase pair is made across it (between segments).
BOUNDARY = "\x1e"

STOPWORDS = frozenset(STOP_WORDS)
PREFIX_MIN, PREFIX_MAX = 3, 4  # the prefix grams indexed

_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "đ": "d", "ł": "l", "ħ": "h", "ı": "i", "þ": "th",
                            "ð": "d", "ŀ": "l"})
_fold_cache: dict[str, str] = {}
_stem_cache: dict[str, str] = {}
_CACHE_LIMIT = 200_000


def fold(word: str) -> str:
    """Lower case without accents: "ÉVÉNEMENTS" -> "evenements", "Straße" -> "strasse"."""
    cached = _fold_cache.get(word)
    if cached is not None:
        return cached
    if word.isascii():
        folded = word.lower()
    else:
        decomposed = unicodedata.normalize("NFKD", word)
        folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
        folded = unicodedata.normalize("NFKC", folded).casefold().translate(_LIGATURES)
    if len(_fold_cache) > _CACHE_LIMIT:
        _fold_cache.clear()
    _fold_cache[word] = folded
    return folded


def stem(folded: str) -> str:
    cached = _stem_cache.get(folded)
    if cached is None:
        cached = porter_stem(folded) if folded.isalpha() and len(folded) > 2 else folded
        if len(_stem_cache) > _CACHE_LIMIT:
            _stem_cache.clear()
        _stem_cache[folded] = cached
    return cached


def is_cjk(token: str) -> bool:
    return bool(_CJK_CHAR.match(token))


@dataclass(frozen=True)
class Token:
    text: str  #: the folded word or CJK bigram
    start: int  #: character offsets in the original text
    end: int


def tokens(text: str) -> Iterator[Token]:
    """Folded words and CJK bigrams with their offsets (BOUNDARY characters are skipped)."""
    for match in _TOKEN.finditer(text):
        run = match.group()
        at = match.start()
        if match.lastgroup == "cjk":
            run = unicodedata.normalize("NFKC", run)
            if len(run) == 1:
                yield Token(run, at, at + 1)
            else:
                for i in range(len(run) - 1):
                    yield Token(run[i:i + 2], at + i, at + i + 2)
        else:
            yield Token(fold(run), at, match.end())


def words(text: str) -> list[str]:
    """Folded words and bigrams in order, stop words kept; "" marks a BOUNDARY (no pair across it)."""
    out: list[str] = []
    for piece in text.split(BOUNDARY) if BOUNDARY in text else (text,):
        if out:
            out.append("")
        for match in _TOKEN.finditer(piece):
            run = match.group()
            if match.lastgroup == "cjk":
                run = unicodedata.normalize("NFKC", run)
                if len(run) == 1:
                    out.append(run)
                else:
                    out.extend(run[i:i + 2] for i in range(len(run) - 1))
            else:
                out.append(fold(run))
    return out


def stems_of(word_list: list[str]) -> list[str]:
    """Index terms for ranked search: stop words dropped, words stemmed, bigrams kept."""
    return [stem(w) for w in word_list if w and w not in STOPWORDS]


def pairs_of(word_list: list[str]) -> list[tuple[str, str]]:
    """Adjacent word pairs, ("crossed", "the"), ("the", "river"), never across a boundary."""
    return [(a, b) for a, b in zip(word_list, word_list[1:]) if a and b]


_key_cache: dict[str, bytes] = {}
KEY_SIZE = 8


def word_key(word: str) -> bytes:
    """A 64-bit digest of a word, the same in every process (followers are stored as these)."""
    key = _key_cache.get(word)
    if key is None:
        key = hashlib.blake2b(word.encode("utf-8"), digest_size=KEY_SIZE).digest()
        if len(_key_cache) > _CACHE_LIMIT:
            _key_cache.clear()
        _key_cache[word] = key
    return key


def neighbours(word_list: list[str]) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """A phrase index of one document: (followers, preceders).

    followers: every word with the sorted digests of what comes right after it: the next word
    ("the") and the next two ("the river"); preceders: every word that is not a stop word with
    those of the word and the two words right before it. A three-word phrase is then one check
    ("crossed" followed by "the river"), a two-word phrase too. A stop word's followers are left
    out (b"\x01": it is present): "the" is followed by hundreds of words in a long transcript,
    and a phrase with a stop word is checked from its other words' side. Payloads are never
    empty (whoosh drops empty values).
    """
    after: dict[str, set[bytes]] = {}
    before: dict[str, set[bytes]] = {}
    n = len(word_list)
    for i, w in enumerate(word_list):
        if not w:
            continue
        keys = after.setdefault(w, set())
        if w in STOPWORDS:
            continue
        nxt = word_list[i + 1] if i + 1 < n else ""
        if nxt:
            keys.add(word_key(nxt))
            if i + 2 < n and word_list[i + 2]:
                keys.add(word_key(f"{nxt} {word_list[i + 2]}"))
        keys = before.setdefault(w, set())
        prev = word_list[i - 1] if i >= 1 else ""
        if prev:
            keys.add(word_key(prev))
            if i >= 2 and word_list[i - 2]:
                keys.add(word_key(f"{word_list[i - 2]} {prev}"))
    followers = {w: b"\x01" if w in STOPWORDS else b"".join(sorted(keys)) or b"\x00" for w, keys in after.items()}
    preceders = {w: b"".join(sorted(keys)) or b"\x00" for w, keys in before.items()}
    return followers, preceders


def follows(keys: bytes, word: str) -> bool:
    """Is `word` (or "two words") among the digests `keys` (as made by `neighbours`)?"""
    key = word_key(word)
    at = keys.find(key)
    while at >= 0:
        if at % KEY_SIZE == 0:
            return True
        at = keys.find(key, at + 1)
    return False


def grams_of(word_list: list[str]) -> set[str]:
    """The first 3 and 4 letters of every word of 3 letters or more (CJK bigrams excluded)."""
    grams: set[str] = set()
    for w in word_list:
        if len(w) >= PREFIX_MIN and not is_cjk(w):
            grams.add(w[:PREFIX_MIN])
            if len(w) >= PREFIX_MAX:
                grams.add(w[:PREFIX_MAX])
    return grams


def contains_sequence(text: str, sequence: list[str]) -> bool:
    """Does `text` hold these folded words (or bigrams) one after another?"""
    found = words(text)
    n = len(sequence)
    first = sequence[0]
    return any(found[i] == first and found[i:i + n] == sequence for i in range(len(found) - n + 1))
