"""The search box's language, parsed into a small tree; never raises, says what it did instead.

    words            all of them (AND)          river bridge
    "a phrase"       these words in this order  "crossed the river"
    OR               either side                river OR bridge
    -word, NOT word  leave out                  river -bridge, -"the end"
    field:value      title, speaker, tag, collection, language (or lang), kind (and any facet
                     declared searchable in archive.search.schema.FACETS)   speaker:kim, tag:"border crossing"
                     (language:xx also stems the words in that language only)
    prefix*          words starting with it (3 letters or more)    hye*
    ( )              grouping                   (river OR bridge) yalu

A query that does not parse is searched as well as it can be, and `Parsed.messages` says how
it was read ("A quotation mark was not closed; ..."). The one exception is nesting deeper than
MAX_DEPTH (parentheses and negations inside each other): `QueryTooDeep`, which pages and the API
answer with a 400, since no one types that and evaluating it would recurse without bound.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_LENGTH = 1000  #: characters; the rest of a longer query is ignored
MAX_TERMS = 40
MAX_DEPTH = 20  #: parentheses and negations inside each other
#: Shorter names of fields: lang:fr is language:fr.
FIELD_ALIASES = {"lang": "language"}


class QueryTooDeep(ValueError):
    """A query nests parentheses or negations deeper than MAX_DEPTH."""

    def __init__(self) -> None:
        super().__init__(f"The query nests parentheses or negations more than {MAX_DEPTH} deep; "
                         "write it with fewer levels.")


@dataclass(frozen=True)
class Term:
    """A word, a phrase or a prefix, maybe limited to a field."""
    text: str
    field: str | None = None
    prefix: bool = False
    quoted: bool = False
    span: tuple[int, int] = (0, 0)  #: where it is in the query string (for "did you mean")


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    child: Node


Node = Term | And | Or | Not


@dataclass
class Parsed:
    node: Node | None  #: None for an empty query
    messages: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Tok:
    kind: str  # WORD, PHRASE, FIELD, OR, AND, NOT, NEG, LPAREN, RPAREN
    text: str = ""
    field: str | None = None
    quoted: bool = False
    span: tuple[int, int] = (0, 0)


def _lex(q: str, fields: frozenset[str], messages: list[str]) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(q)
    unknown: list[str] = []
    while i < n:
        ch = q[i]
        if ch.isspace():
            i += 1
        elif ch == "(":
            toks.append(_Tok("LPAREN", span=(i, i + 1)))
            i += 1
        elif ch == ")":
            toks.append(_Tok("RPAREN", span=(i, i + 1)))
            i += 1
        elif ch == "-" and i + 1 < n and not q[i + 1].isspace() and (i == 0 or q[i - 1].isspace() or q[i - 1] == "("):
            toks.append(_Tok("NEG", span=(i, i + 1)))
            i += 1
        elif ch == '"':
            end = q.find('"', i + 1)
            if end < 0:
                messages.append("A quotation mark was not closed, so the words after it were searched "
                                "for separately.")
                i += 1
                continue
            toks.append(_Tok("PHRASE", q[i + 1:end], quoted=True, span=(i, end + 1)))
            i = end + 1
        else:
            j = i
            while j < n and not q[j].isspace() and q[j] not in '()"':
                j += 1
            word = q[i:j]
            if word in ("OR", "|", "||"):
                toks.append(_Tok("OR", span=(i, j)))
            elif word in ("AND", "&&", "&"):
                toks.append(_Tok("AND", span=(i, j)))
            elif word == "NOT":
                toks.append(_Tok("NOT", span=(i, j)))
            elif ":" in word and word.partition(":")[0].isalpha():
                name, _, value = word.partition(":")
                key = name.lower()
                if key not in fields and FIELD_ALIASES.get(key) in fields:
                    key = FIELD_ALIASES[key]
                if key not in fields and key in ("http", "https", "mailto"):
                    toks.append(_Tok("WORD", word, span=(i, j)))
                elif key not in fields:
                    unknown.append(name)  # search for the value alone
                    if value:
                        start = i + len(name) + 1
                        toks.append(_Tok("WORD", value, span=(start, j)))
                elif value:
                    toks.append(_Tok("FIELD", value, field=key, span=(i, j)))
                elif j < n and q[j] == '"':
                    end = q.find('"', j + 1)
                    if end < 0:
                        messages.append("A quotation mark was not closed, so the words after it were searched "
                                        "for separately.")
                        toks.append(_Tok("FIELD", "", field=key, span=(i, j)))
                        i = j + 1
                        continue
                    toks.append(_Tok("FIELD", q[j + 1:end], field=key, quoted=True, span=(i, end + 1)))
                    j = end + 1
                else:
                    toks.append(_Tok("FIELD", "", field=key, span=(i, j)))
            else:
                toks.append(_Tok("WORD", word, span=(i, j)))
            i = j
    if unknown:
        known = ", ".join(sorted(fields))
        messages.append(f"There is no field {', '.join(repr(u) for u in dict.fromkeys(unknown))} "
                        f"(fields: {known}); searched for what follows the colon instead.")
    return toks


class _Parser:
    def __init__(self, toks: list[_Tok], messages: list[str]) -> None:
        self.toks = toks
        self.i = 0
        self.messages = messages
        self.terms = 0
        self.depth = 0

    def deeper(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QueryTooDeep()

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def note(self, message: str) -> None:
        if message not in self.messages:
            self.messages.append(message)

    def parse(self) -> Node | None:
        node = self.or_expr()
        while self.peek() is not None:  # a stray ")" stopped the parse: carry on after it
            self.i += 1
            self.note("A closing parenthesis had no opening one and was ignored.")
            more = self.or_expr()
            node = _join(And, [n for n in (node, more) if n is not None])
        return node

    def or_expr(self) -> Node | None:
        parts: list[Node] = []
        dangling = False
        while True:
            node = self.and_expr()
            if node is not None:
                parts.append(node)
            elif parts or (self.peek() and self.peek().kind == "OR"):
                dangling = True
            tok = self.peek()
            if tok is not None and tok.kind == "OR":
                self.i += 1
                continue
            break
        if dangling:
            self.note("OR needs something on both sides; it was ignored where it had not.")
        return _join(Or, parts)

    def and_expr(self) -> Node | None:
        parts: list[Node] = []
        while True:
            tok = self.peek()
            if tok is None or tok.kind in ("OR", "RPAREN"):
                break
            if tok.kind == "AND":
                self.i += 1
                continue
            node = self.unary()
            if node is not None:
                parts.append(node)
        return _join(And, parts)

    def unary(self) -> Node | None:
        tok = self.peek()
        assert tok is not None
        if tok.kind in ("NEG", "NOT"):
            self.i += 1
            nxt = self.peek()
            if nxt is None or nxt.kind in ("OR", "RPAREN", "AND"):
                self.note(f"{'NOT' if tok.kind == 'NOT' else '-'} needs a word after it; it was ignored.")
                return None
            self.deeper()
            child = self.unary()
            self.depth -= 1
            return Not(child) if child is not None else None
        return self.atom()

    def atom(self) -> Node | None:
        tok = self.toks[self.i]
        self.i += 1
        if tok.kind == "LPAREN":
            self.deeper()
            node = self.or_expr()
            self.depth -= 1
            if self.peek() is not None and self.peek().kind == "RPAREN":
                self.i += 1
            else:
                self.note("A parenthesis was not closed; it was closed at the end.")
            return node
        if self.terms >= MAX_TERMS:
            self.note(f"Only the first {MAX_TERMS} words were searched for.")
            return None
        if tok.kind == "PHRASE":
            if not tok.text.strip():
                return None
            self.terms += 1
            return Term(tok.text, quoted=True, span=tok.span)
        if tok.kind == "FIELD":
            if not tok.text.strip():
                self.note(f"{tok.field}: needs a value after the colon, e.g. {tok.field}:kim; it was ignored.")
                return None
            self.terms += 1
            return Term(tok.text, field=tok.field, quoted=tok.quoted, prefix=tok.text.endswith("*") and not tok.quoted,
                        span=tok.span)
        text = tok.text
        if text.endswith("*"):
            stem = text.rstrip("*")
            if not stem.strip("*?"):
                self.note("A * on its own matches nothing; it was ignored.")
                return None
            self.terms += 1
            return Term(stem, prefix=True, span=tok.span)
        self.terms += 1
        return Term(text, span=tok.span)


def _join(kind: type[And] | type[Or], parts: list[Node]) -> Node | None:
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    return kind(tuple(parts))


def parse_query(q: str, fields: frozenset[str] | set[str]) -> Parsed:
    """Parse `q`; unknown fields, unbalanced quotes or parentheses become messages, never errors;
    only nesting deeper than MAX_DEPTH raises QueryTooDeep."""
    messages: list[str] = []
    if len(q) > MAX_LENGTH:
        q = q[:MAX_LENGTH]
        messages.append(f"The query was cut to its first {MAX_LENGTH} characters.")
    toks = _lex(q, frozenset(fields), messages)
    # A phrase whose closing quote is missing: its words are searched for one by one.
    return Parsed(_Parser(toks, messages).parse(), messages)


def terms_of(node: Node | None, *, negated: bool = False) -> list[tuple[Term, bool]]:
    """Every Term with whether it sits under a NOT."""
    if node is None:
        return []
    if isinstance(node, Term):
        return [(node, negated)]
    if isinstance(node, Not):
        return terms_of(node.child, negated=not negated)
    out: list[tuple[Term, bool]] = []
    for child in node.children:
        out += terms_of(child, negated=negated)
    return out


def names_value(ws: list[str], prefix: bool, value: list[str]) -> bool:
    """Do the folded words `ws` of a field:value term name the value of these folded words (a run of
    its words; with `prefix`, the last one a word's beginning)?"""
    n = len(ws)
    head, last = (ws[:-1], ws[-1]) if prefix else (ws, None)
    for i in range(len(value) - n + 1):
        if value[i:i + len(head)] == head and (last is None or value[i + len(head)].startswith(last)):
            return True
    return False
