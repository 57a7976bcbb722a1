"""An OAI-PMH request's arguments, checked as the protocol says (OAI-PMH 2.0, sections 3.1 and 3.6):
one verb, only the arguments that verb takes, none repeated, the required ones present, a
resumptionToken alone, dates in one of the two granularities."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timezone

#: Each verb's required and optional arguments (besides verb itself and, where listed, resumptionToken).
VERBS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "Identify": (frozenset(), frozenset()),
    "ListMetadataFormats": (frozenset(), frozenset({"identifier"})),
    "ListSets": (frozenset(), frozenset()),
    "GetRecord": (frozenset({"identifier", "metadataPrefix"}), frozenset()),
    "ListIdentifiers": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"})),
    "ListRecords": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"})),
}
#: Verbs that may be continued with a resumptionToken (which is then their only argument).
RESUMABLE = frozenset({"ListSets", "ListIdentifiers", "ListRecords"})
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
SECOND = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


class OAIError(Exception):
    """One of the protocol's error conditions: `code` is its name (badArgument, idDoesNotExist...)."""

    def __init__(self, code: str, message: str, *, others: tuple[OAIError, ...] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        #: Further conditions of the same request, answered beside this one (the protocol allows several).
        self.others = others


@dataclass(frozen=True)
class Request:
    """A request whose arguments passed the checks: the verb and its other arguments."""
    verb: str
    arguments: dict[str, str]

    def get(self, name: str) -> str | None:
        return self.arguments.get(name)


def parse_request(pairs: list[tuple[str, str]]) -> Request:
    """The request of these (name, value) pairs, or OAIError badVerb / badArgument saying what is wrong."""
    verbs = [value for name, value in pairs if name == "verb"]
    if not verbs:
        raise OAIError("badVerb", "the request names no verb")
    if len(verbs) > 1:
        raise OAIError("badVerb", "the verb argument is repeated")
    verb = verbs[0]
    if verb not in VERBS:
        raise OAIError("badVerb", f"{verb!r} is not an OAI-PMH verb; the verbs are {', '.join(VERBS)}")
    arguments: dict[str, str] = {}
    for name, value in pairs:
        if name == "verb":
            continue
        if name in arguments:
            raise OAIError("badArgument", f"the argument {name!r} is repeated")
        arguments[name] = value
    required, optional = VERBS[verb]
    allowed = required | optional | ({"resumptionToken"} if verb in RESUMABLE else set())
    unknown = sorted(set(arguments) - allowed)
    if unknown:
        raise OAIError("badArgument", f"{verb} takes no argument {', '.join(map(repr, unknown))}")
    if "resumptionToken" in arguments:
        if len(arguments) > 1:
            raise OAIError("badArgument", "resumptionToken is an exclusive argument: give it alone, with the verb")
        return Request(verb, arguments)
    missing = sorted(required - set(arguments))
    if missing:
        raise OAIError("badArgument", f"{verb} needs the argument {', '.join(map(repr, missing))}")
    empty = sorted(name for name, value in arguments.items() if not value.strip())
    if empty:
        raise OAIError("badArgument", f"the argument {', '.join(map(repr, empty))} is empty")
    return Request(verb, arguments)


def parse_date(value: str, name: str, *, end_of_day: bool = False) -> tuple[datetime, str]:
    """A from/until value as a UTC datetime and its granularity ("day" or "second"). A day as `until`
    covers the whole day (its last second), as `from` starts at its first."""
    try:
        if SECOND.match(value):
            return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc), "second"
        if DAY.match(value):
            day = datetime.strptime(value, "%Y-%m-%d").date()
            return datetime.combine(day, time(23, 59, 59) if end_of_day else time(0), timezone.utc), "day"
    except ValueError:
        pass
    raise OAIError("badArgument", f"{name}={value!r} is not a date of this repository's granularity: "
                                  "give YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ (UTC)")


def date_range(request: Request) -> tuple[datetime | None, datetime | None]:
    """The request's from and until, checked: each well formed, both of one granularity, from not after until."""
    start = parse_date(request.arguments["from"], "from") if "from" in request.arguments else None
    end = parse_date(request.arguments["until"], "until", end_of_day=True) if "until" in request.arguments else None
    if start and end:
        if start[1] != end[1]:
            raise OAIError("badArgument", "from and until must have the same granularity (both days, or both seconds)")
        if start[0] > end[0]:
            raise OAIError("badArgument", "from is later than until")
    return (start[0] if start else None), (end[0] if end else None)


def datestamp_text(moment: datetime) -> str:
    """`moment` as the protocol writes datestamps: UTC, to the second, with a Z."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
