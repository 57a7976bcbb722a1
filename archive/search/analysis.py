"""How text becomes index terms, the same way for documents, queries and highlighting.

* Units ("words"): runs of letters and digits for scripts written with spaces; runs of Thai,
  Lao, Khmer, Myanmar and the Indic scripts are cut with ICU's word break rules (PyICU):
  "ข้ามแม่น้ำโขง" gives ข้าม, แม่น้ำ, โขง. CJK text (Hangul, Hanzi, kana) gives every
  character and every overlapping pair of characters, interleaved: "강을" gives 강, 강을, 을.
  Chinese and Japanese put no spaces between words and Korean attaches particles to them
  (메콩강을 is one word), so a character ("강", "河"), a word inside a compound (메콩강 in
  메콩강을) and a whole word all match, and a phrase is the same run of units in a row (no gap).
* Folding: lower case, accents removed (ÉVÉNEMENTS -> evenements), ligatures opened, NFKC widths;
  the vowel and tone marks of the Indic and South-East Asian scripts are letters and are kept.
* `stems_of`: index terms for ranked search, per language: folded words without English stop
  words, stemmed with their text's language's Snowball stemmer and tagged with it ("fr:even"), so
  stems of different languages never meet (English "evening" is "en:even"); words of a language
  without a stemmer (Korean, Chinese, Thai...) and CJK units stay as they are. Latin-script words
  in a text whose language does not write them (English in a Chinese transcript) are stemmed in
  the catalogue's language. A query word looks for its stem in every language the index holds
  (`query_terms`); the exact word form is checked apart and ranks higher (see matching).
* `words`: folded units with stop words kept and nothing stemmed, in order. Phrases use which
  word follows which (`neighbours`: "crossed" is followed by "the", "river" preceded by "the"),
  so "crossed the river" never matches "crossed a river"; prefix searches use their first 3
  and 4 letters.

Per-word (and per-run) results are memoised: archives repeat their vocabulary, and stemming and
word breaking dominate.
"""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from whoosh.analysis import STOP_WORDS

# Hangul Jamo and syllables, CJK punctuation-free ideograph blocks, kana (with half-width forms).
_CJK = ("\u1100-\u11ff\u3040-\u309f\u30a0-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
        "\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0002fa1f")
# Scripts whose words ICU's dictionaries and rules find: Indic (Devanagari to Sinhala), Thai, Lao,
# Tibetan, Myanmar, Khmer, Tai Le, New Tai Lue, Tai Tham. Whole blocks, so that their vowel and
# tone marks (not letters to a regex) stay inside the word.
_ICU = "\u0900-\u0dff\u0e00-\u0eff\u0f00-\u0fff\u1000-\u109f\u1780-\u17ff\u1950-\u19df\u1a20-\u1aaf"
_TOKEN = re.compile(rf"(?P<cjk>[{_CJK}]+)|(?P<icu>[{_ICU}]+)|(?P<word>[^\W_{_CJK}{_ICU}]+)")
_CJK_CHAR = re.compile(rf"[{_CJK}]")

#: A character that ends a run of text: no phrase pair is made across it (between segments).
BOUNDARY = "\x1e"

STOPWORDS = frozenset(STOP_WORDS)
PREFIX_MIN, PREFIX_MAX = 3, 4  # the prefix grams indexed

#: Languages with a Snowball stemmer: ISO 639-1 code (the tag in index terms) -> (Snowball
#: algorithm, whether the language is written in Latin letters).
STEMMERS: dict[str, tuple[str, bool]] = {
    "ar": ("arabic", False), "ca": ("catalan", True), "cs": ("czech", True), "da": ("danish", True),
    "de": ("german", True), "el": ("greek", False), "en": ("english", True), "eo": ("esperanto", True),
    "es": ("spanish", True), "et": ("estonian", True), "eu": ("basque", True), "fa": ("persian", False),
    "fi": ("finnish", True), "fr": ("french", True), "ga": ("irish", True), "hi": ("hindi", False),
    "hu": ("hungarian", True), "hy": ("armenian", False), "id": ("indonesian", True), "it": ("italian", True),
    "lt": ("lithuanian", True), "ne": ("nepali", False), "nl": ("dutch", True), "no": ("norwegian", True),
    "pl": ("polish", True), "pt": ("portuguese", True), "ro": ("romanian", True), "ru": ("russian", False),
    "sr": ("serbian", False), "st": ("sesotho", True), "sv": ("swedish", True), "ta": ("tamil", False),
    "tr": ("turkish", True), "yi": ("yiddish", False),
}
#: Other spellings of a language's primary subtag (BCP 47 and ISO 639-2).
_LANGUAGE_ALIASES = {"nb": "no", "nn": "no", "eng": "en", "fra": "fr", "fre": "fr", "deu": "de", "ger": "de",
                     "spa": "es", "ita": "it", "por": "pt", "rus": "ru", "nld": "nl", "dut": "nl"}

_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "đ": "d", "ł": "l", "ħ": "h", "ı": "i", "þ": "th",
                            "ð": "d", "ŀ": "l"})
_fold_cache: dict[str, str] = {}
_stem_cache: dict[tuple[str, str], str] = {}
_terms_cache: dict[tuple[str, str], dict[str, str]] = {}  # (language, fallback) -> word -> index term
_run_cache: dict[str, list[tuple[str, int, int]]] = {}  # CJK and ICU runs (their scripts differ)
_CACHE_LIMIT = 200_000
_KEPT_MARKS_FROM = "\u0900"  # marks on letters from here on are part of the letter (Indic, Thai...)


def fold(word: str) -> str:
    """Lower case without accents: "ÉVÉNEMENTS" -> "evenements", "Straße" -> "strasse"."""
    cached = _fold_cache.get(word)
    if cached is not None:
        return cached
    if word.isascii():
        folded = word.lower()
    else:
        decomposed = unicodedata.normalize("NFKD", word)
        kept, base = [], ""
        for ch in decomposed:
            if unicodedata.combining(ch):
                if base >= _KEPT_MARKS_FROM:
                    kept.append(ch)
            else:
                base = ch
                kept.append(ch)
        folded = unicodedata.normalize("NFKC", "".join(kept)).casefold().translate(_LIGATURES)
    if len(_fold_cache) > _CACHE_LIMIT:
        _fold_cache.clear()
    _fold_cache[word] = folded
    return folded


def stem_language(tag: str) -> str:
    """The stemmer's code for a BCP 47 tag ("fr-CA" -> "fr"), "" when the language has none ("zh-Hans")."""
    primary = tag.strip().lower().replace("_", "-").partition("-")[0]
    primary = _LANGUAGE_ALIASES.get(primary, primary)
    return primary if primary in STEMMERS else ""


# Snowball stemmers and ICU break iterators keep state: one per thread. Both libraries are
# imported when first used (some 0.2 s each), not by every command that imports the app.
_stemmers = threading.local()


def _stemmer(language: str) -> Any:
    found = getattr(_stemmers, language, None)
    if found is None:
        import snowballstemmer

        found = snowballstemmer.stemmer(STEMMERS[language][0])
        setattr(_stemmers, language, found)
    return found


def stem(folded: str, language: str = "") -> str:
    """The index term of a folded word in `language` (a code of STEMMERS, or ""): its stem tagged
    with the language ("fr:even"), or the word itself when it has no stem (no stemmer, CJK,
    digits, two letters or fewer)."""
    if (not language or len(folded) <= 2 or is_cjk(folded)
            or (not folded.isalpha() and any(ch.isdigit() for ch in folded))):  # "a12", not Hindi's marks
        return folded
    key = (language, folded)
    cached = _stem_cache.get(key)
    if cached is None:
        cached = f"{language}:{_stemmer(language).stemWord(folded)}"
        if len(_stem_cache) > _CACHE_LIMIT:
            _stem_cache.clear()
        _stem_cache[key] = cached
    return cached


def is_cjk(token: str) -> bool:
    return bool(_CJK_CHAR.match(token))


@dataclass(frozen=True)
class Token:
    text: str  #: the folded word, CJK character or CJK pair
    start: int  #: character offsets in the original text
    end: int


def _icu_words(run: str) -> list[tuple[str, int, int]]:
    """The words of a run of Thai, Lao, Khmer... as ICU's word break rules find them, with offsets."""
    cached = _run_cache.get(run)
    if cached is not None:
        return cached
    breaker = getattr(_stemmers, "breaker", None)
    if breaker is None:
        import icu

        breaker = _stemmers.breaker = icu.BreakIterator.createWordInstance(icu.Locale.getRoot())
        _stemmers.unicode_string = icu.UnicodeString
    text = _stemmers.unicode_string(run)
    breaker.setText(text)
    found: list[tuple[str, int, int]] = []
    at, start = 0, breaker.first()
    for end in breaker:  # boundaries are UTF-16 offsets: slice the UnicodeString, count code points
        piece = str(text[start:end])
        if breaker.getRuleStatus() != 0:  # UBRK_WORD_NONE: spaces, punctuation
            found.append((fold(piece), at, at + len(piece)))
        at += len(piece)
        start = end
    if len(_run_cache) > _CACHE_LIMIT:
        _run_cache.clear()
    _run_cache[run] = found
    return found


def _cjk_units(run: str) -> list[tuple[str, int, int]]:
    """Every character and every pair of a CJK run, interleaved: 강을 -> 강, 강을, 을 (with offsets).

    Characters are NFKC-normalised one by one (half-width kana), so offsets stay the run's."""
    cached = _run_cache.get(run)
    if cached is not None:
        return cached
    chars = [unicodedata.normalize("NFKC", ch) for ch in run] if not run.isascii() else list(run)
    found = [(chars[0], 0, 1)]
    for i in range(1, len(chars)):
        found.append((chars[i - 1] + chars[i], i - 1, i + 1))
        found.append((chars[i], i, i + 1))
    if len(_run_cache) > _CACHE_LIMIT:
        _run_cache.clear()
    _run_cache[run] = found
    return found


def tokens(text: str) -> Iterator[Token]:
    """Folded units with their offsets (BOUNDARY characters are skipped)."""
    for match in _TOKEN.finditer(text):
        kind, at = match.lastgroup, match.start()
        if kind == "word":
            yield Token(fold(match.group()), at, match.end())
        else:
            for unit, start, end in (_cjk_units if kind == "cjk" else _icu_words)(match.group()):
                yield Token(unit, at + start, at + end)


def _units(piece: str, out: list[str]) -> None:
    for match in _TOKEN.finditer(piece):
        kind = match.lastgroup
        if kind == "word":
            out.append(fold(match.group()))
        elif kind == "cjk":
            out.extend(u for u, _, _ in _cjk_units(match.group()))
        else:
            out.extend(u for u, _, _ in _icu_words(match.group()))


def words(text: str) -> list[str]:
    """Folded units in order, stop words kept; "" marks a BOUNDARY (no pair across it)."""
    out: list[str] = []
    for piece in text.split(BOUNDARY) if BOUNDARY in text else (text,):
        if out:
            out.append("")
        _units(piece, out)
    return out


def word_language(word: str, language: str, fallback: str = "") -> str:
    """The language a word of a text in `language` is stemmed in: the text's, if it has a stemmer
    and writes the word's letters; a Latin-script word of any other text is stemmed in `fallback`
    (the catalogue's language); else none ("")."""
    if language:
        latin = STEMMERS[language][1]
        if latin or not word.isascii():
            return language
    return fallback if word.isascii() else ""


def stems_of(word_list: list[str], language: str = "", fallback: str = "") -> list[str]:
    """Index terms for ranked search of a text in `language` (a STEMMERS code or ""): stop words
    dropped, words stemmed (see word_language), CJK units and words without a stemmer kept."""
    cache = _terms_cache.get((language, fallback))
    if cache is None or len(cache) > _CACHE_LIMIT:
        cache = _terms_cache[(language, fallback)] = {}
    out = []
    for w in word_list:
        if w and w not in STOPWORDS:
            term = cache.get(w)
            if term is None:
                term = cache[w] = stem(w, word_language(w, language, fallback))
            out.append(term)
    return out


def query_terms(word: str, languages: Iterable[str]) -> list[str]:
    """The index terms a query word (folded) may match: itself and its stem in each language."""
    return list(dict.fromkeys([word, *(stem(word, lang) for lang in languages)]))


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
    """The first 3 and 4 letters of every word of 3 letters or more (CJK units excluded)."""
    grams: set[str] = set()
    for w in word_list:
        if len(w) >= PREFIX_MIN and not is_cjk(w):
            grams.add(w[:PREFIX_MIN])
            if len(w) >= PREFIX_MAX:
                grams.add(w[:PREFIX_MAX])
    return grams


def contains_sequence(text: str, sequence: list[str]) -> bool:
    """Does `text` hold these folded units one after another?"""
    found = words(text)
    n = len(sequence)
    first = sequence[0]
    return any(found[i] == first and found[i:i + n] == sequence for i in range(len(found) - n + 1))
