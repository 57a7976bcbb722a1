"""`crossings export ...` and `crossings import ...`: one subcommand per format, each defined beside
its format (archive.interchange.*_commands) and attached here, with the options every export shares:
whose eyes it sees with, and which items it takes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from archive.access import ANONYMOUS, SYSTEM, Viewer
from archive.interchange.selection import Selection
from archive.search.schema import FACET_NAMES
from archive.services import Invalid
from archive.services.filters import DATE_PARAMS, search_filter
from archive.services.accounts import get_user, viewer_for

export_group = click.Group("export", help="Write records and packages other archives read.")
import_group = click.Group("import", help="Bring in records and packages made here or elsewhere.")

F = TypeVar("F", bound=Callable[..., Any])


def viewer_options(command: F) -> F:
    """--public / --as USERNAME: an export holds what that viewer may see (default: everything)."""
    command = click.option("--as", "as_user", metavar="USERNAME",
                           help="Export what this account may see, as it would receive it.")(command)
    return click.option("--public", is_flag=True,
                        help="Export for anyone: only what an anonymous visitor may see.")(command)


def export_viewer(session: Session, public: bool, as_user: str | None) -> Viewer:
    """The viewer of viewer_options (a username that does not exist is NotFound)."""
    if public and as_user:
        raise click.UsageError("give --public or --as, not both")
    if public:
        return ANONYMOUS
    if as_user:
        return viewer_for(get_user(session, as_user))
    return SYSTEM


def selection_options(command: F) -> F:
    """--collection ID | --journey ID | --search Q [--filter facet=value ...]; none: every item."""
    for option in reversed((
            click.option("--collection", "collection_id", type=int, help="The items of this collection."),
            click.option("--journey", "journey_id", type=int, help="The items filmed on this journey's legs."),
            click.option("--search", "search_q", metavar="QUERY", help="The items this search finds."),
            click.option("--filter", "search_filters", metavar="FACET=VALUE", multiple=True,
                         help="Narrow --search by a facet (country=KP, tag=river...); repeatable."))):
        command = option(command)
    return command


def export_selection(collection_id: int | None, journey_id: int | None, search_q: str | None,
                     search_filters: tuple[str, ...]) -> Selection:
    """The Selection of selection_options (the search reads its filters as the search page does:
    facets, from/to dates, country)."""
    if sum(x is not None for x in (collection_id, journey_id, search_q)) > 1:
        raise click.UsageError("give at most one of --collection, --journey and --search")
    if search_filters and search_q is None:
        raise click.UsageError("--filter narrows --search: give --search too (an empty query finds everything)")
    if search_q is None:
        return Selection(collection_id=collection_id, journey_id=journey_id)
    args = MultiDict([("q", search_q)])
    for given in search_filters:
        facet, sep, value = (part.strip() for part in given.partition("="))
        if not sep or not value or facet not in (*FACET_NAMES, *DATE_PARAMS, "country"):
            raise click.UsageError(f"--filter {given!r}: give FACET=VALUE with a facet of "
                                   f"{', '.join((*FACET_NAMES, *DATE_PARAMS))}")
        args.add(facet, value)
    try:
        return Selection(search=search_filter(args))
    except Invalid as exc:
        raise click.UsageError(f"--filter: {exc}") from exc

# Each format's subcommands, attached to the groups above when this module is imported.
from archive.interchange import pbcore_commands  # noqa: E402,F401  (crossings export pbcore / dc)
from archive.interchange import pbcore_import_commands  # noqa: E402,F401  (crossings import pbcore)
from archive.interchange import spreadsheet_commands  # noqa: E402,F401  (crossings export csv / import csv)
from archive.interchange import bag_commands  # noqa: E402,F401  (crossings export bag / import bag)
from archive.interchange import story_commands  # noqa: E402,F401  (crossings export story)
