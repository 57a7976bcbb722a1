"""Search filters from request parameters, and the facet blocks that offer them.

The one place that reads a query string's q, facet values, from/to dates, sort and page into a
SearchRequest, and turns a response's facet counts back into choices, each with the parameters
of the link that adds or removes it. Views pass the parameters (a dict or a werkzeug MultiDict,
never `request` itself) and make the links; /search and /api/search use it, and Browse can.

    search = search_filter(request.args, default_per_page=20)      # Invalid (a 400) on a bad date
    blocks = facet_blocks(request.args, search, response)          # [FacetBlock(facet, [FacetOption])]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from archive.dates import parse_date
from archive.search import FACETS, MAX_PER_PAGE, Facet, SearchRequest, SearchResponse
from archive.services import Invalid
from archive.transcripts import language_name, language_named

#: How facet values that are codes read (languages are named by language_name).
VALUE_LABELS = {"has_transcript": {"yes": "With a transcript", "no": "Without a transcript"}}
#: The date parameters: EDTF, an item is kept when its date shot overlaps from..to.
DATE_PARAMS = {"from": "Shot from", "to": "Shot until"}

Args = Mapping[str, Any]


def values_of(args: Args, name: str) -> list[str]:
    """Every non-empty value of parameter `name` (a MultiDict's repeated ones, or a list's)."""
    getlist = getattr(args, "getlist", None)
    values = getlist(name) if getlist else args.get(name)
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    return [str(v).strip() for v in values if str(v).strip()]


def _date(args: Args, name: str) -> tuple[str, date | None]:
    """The EDTF text of `from` or `to` and the bound it gives (the lower end of `from`, the upper of `to`)."""
    values = values_of(args, name)
    if not values:
        return "", None
    text = values[-1]
    try:
        parsed = parse_date(text)
    except ValueError as exc:
        raise Invalid(f"{DATE_PARAMS[name]}: {exc}", field=name) from None
    bound = parsed.lower if name == "from" else parsed.upper
    if bound is None:
        raise Invalid(f"{DATE_PARAMS[name]}: {text!r} has no {'start' if name == 'from' else 'end'} to search by",
                      field=name)
    return text, bound


def search_filter(args: Args, *, default_per_page: int = 20, max_per_page: int = MAX_PER_PAGE) -> SearchRequest:
    """The search these parameters ask for. Bad numbers and unknown names fall back; a date that is
    not EDTF, or a from after its to, raises Invalid naming the parameter ("from", "to")."""
    search = SearchRequest.from_args(args, default_per_page=default_per_page, max_per_page=max_per_page)
    filters = dict(search.filters)
    if "language" in filters:  # a language with any script or region, by code or name: its base code
        filters["language"] = list(dict.fromkeys(language_named(v) or v for v in filters["language"]))
    low, high = date_bounds(args)
    return dataclasses.replace(search, filters=filters, date_from=low, date_to=high)


def date_bounds(args: Args) -> tuple[date | None, date | None]:
    """The first and last day that `from` and `to` (EDTF) allow; Invalid naming the parameter on a
    date that is not EDTF or a from after its to."""
    (_, low), (_, high) = _date(args, "from"), _date(args, "to")
    if low is not None and high is not None and low > high:
        raise Invalid(f"{DATE_PARAMS['from']} ({low.isoformat()}) comes after {DATE_PARAMS['to'].lower()} "
                      f"({high.isoformat()})", field="from")
    return low, high


def value_label(facet: str, value: str) -> str:
    """How a facet value reads: languages by name ("Chinese" for zh), codes by their label."""
    if facet == "language":
        return language_name(value)
    label = VALUE_LABELS.get(facet, {}).get(value, value)
    return label.capitalize() if facet in ("kind", "access") else label


@dataclass(frozen=True)
class FacetOption:
    value: str
    label: str
    count: int
    chosen: bool
    #: the parameters of this search with the value added (values of one facet are alternatives),
    #: or taken out if chosen; the page number dropped
    args: dict[str, list[str]]


@dataclass(frozen=True)
class FacetBlock:
    facet: Facet
    options: list[FacetOption]


def _as_lists(args: Args) -> dict[str, list[str]]:
    return {name: values_of(args, name) for name in args}


def toggled(args: Args, name: str, value: str | None, *, chosen: bool) -> dict[str, list[str]]:
    """The parameters with `value` of `name` added, or taken out when `chosen` (all of them when
    `value` is None); a different set of results starts at its first page."""
    out = _as_lists(args)
    values = [v for v in out.get(name, []) if value is not None and v != value]
    if not chosen and value is not None:
        values.append(value)
    out[name] = values
    out.pop("page", None)
    return {k: v for k, v in out.items() if v}


def facet_blocks(args: Args, search: SearchRequest, response: SearchResponse, *,
                 facets: Sequence[Facet] = FACETS, labels: Mapping[str, Mapping[str, str]] | None = None,
                 ) -> list[FacetBlock]:
    """Every facet with values, each value with its label, count and the parameters of its link;
    `facets` are search's unless given (browse has its own), `labels` name values that are ids
    (facet -> value -> label; browse's legs).

    A chosen value is listed even when this search counts none of it, so that it can be removed.
    """
    blocks = []
    labels = labels or {}
    for facet in facets:
        chosen = list(search.filters.get(facet.name, ()))
        counted = {v.value: v.count for v in response.facets.get(facet.name, ())}
        values = list(counted) + [v for v in chosen if v not in counted]
        named = labels.get(facet.name, {})
        options = [FacetOption(v, named.get(v) or value_label(facet.name, v), counted.get(v, 0), v in chosen,
                               _toggled_value(args, search, facet.name, v, chosen=v in chosen)) for v in values]
        if options:
            blocks.append(FacetBlock(facet, options))
    return blocks


def _toggled_value(args: Args, search: SearchRequest, name: str, value: str, *, chosen: bool) -> dict[str, list[str]]:
    """`toggled`, on the values as the search reads them (?language=zh-Hans is the value zh)."""
    if name in search.filters:
        args = {**_as_lists(args), name: list(search.filters[name])}
    return toggled(args, name, value, chosen=chosen)


def date_choices(args: Args, search: SearchRequest) -> list[tuple[str, str, dict[str, list[str]]]]:
    """The date filters in use: (parameter, "Shot from: 2019", the parameters without it)."""
    out = []
    for name, label in DATE_PARAMS.items():
        text = values_of(args, name)
        if text and (search.date_from if name == "from" else search.date_to) is not None:
            out.append((name, f"{label}: {text[-1]}", toggled(args, name, None, chosen=True)))
    return out
