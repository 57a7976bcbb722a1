"""`crossings export csv` and `crossings import csv`: the spreadsheet round trip from a terminal."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from rich.console import Console

from archive.access import SYSTEM, Viewer, may_edit
from archive.app import current_archive
from archive.interchange.commands import (export_group, export_selection, export_viewer, import_group,
                                          selection_options, viewer_options)
from archive.interchange.selection import selected_item_ids
from archive.interchange.spreadsheet import write_items_csv
from archive.interchange.spreadsheet_import import ImportPlan, ImportResult, apply_csv_import, plan_csv_import
from archive.services import Invalid, NotFound, search_sync
from archive.services.accounts import get_user, viewer_for

err = Console(stderr=True, highlight=False)


@export_group.command("csv")
@click.option("-o", "--output", default="-", metavar="FILE|-", help="Where to write the CSV (default: stdout).")
@viewer_options
@selection_options
@with_appcontext
def export_csv(output: str, public: bool, as_user: str | None, collection_id: int | None, journey_id: int | None,
               search_q: str | None, search_filters: tuple[str, ...]) -> None:
    """One row per item, the columns of docs/interchange.md, UTF-8 with a byte order mark."""
    archive = current_archive()
    selection = export_selection(collection_id, journey_id, search_q, search_filters)
    try:
        with archive.session() as session:
            viewer = export_viewer(session, public, as_user)
            ids = selected_item_ids(session, viewer, archive.index, selection)
            if output == "-":
                rows = write_items_csv(sys.stdout, session, viewer, ids)
                sys.stdout.flush()
            else:
                with open(output, "w", encoding="utf-8", newline="") as out:
                    rows = write_items_csv(out, session, viewer, ids)
    except NotFound as exc:
        err.print(f"crossings: {exc} does not exist or that viewer may not see it", markup=False, soft_wrap=True)
        sys.exit(1)
    except OSError as exc:
        err.print(f"crossings: {output}: {exc.strerror or exc}", markup=False, soft_wrap=True)
        sys.exit(1)
    err.print(f"{rows} items written ({selection.describe()}, as {viewer.name})", markup=False, soft_wrap=True)


def _print_plan(plan: ImportPlan, verb: str) -> None:
    for row in plan.updates:
        click.echo(f"item {row.item_id} “{row.title}” (line {row.line}) {verb}:")
        for change in row.changes:
            click.echo(f"  {change.column}: {change.old!r} → {change.new!r}")
    for row in plan.creates:
        click.echo(f"new item “{row.title}” (line {row.line}) {'created' if verb == 'changed' else 'would be created'}"
                   + (f" as item {row.item_id}" if row.item_id else "") + ":")
        for change in row.changes:
            click.echo(f"  {change.column}: {change.new!r}")


def _importer(username: str) -> Viewer:
    """The viewer of an account that may import (archivists and admins); exits with a message otherwise."""
    try:
        with current_archive().Session() as session:
            viewer = viewer_for(get_user(session, username))
    except NotFound:
        err.print(f"crossings: there is no account {username!r}", markup=False, soft_wrap=True)
        sys.exit(1)
    if not may_edit(viewer):
        err.print(f"crossings: {username} is a {viewer.role.value}: only archivists and admins import",
                  markup=False, soft_wrap=True)
        sys.exit(1)
    return viewer


@import_group.command("csv")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--apply", "do_apply", is_flag=True, help="Make the changes (without it: a dry run that changes nothing).")
@click.option("--json", "as_json", is_flag=True, help="Print the plan (or what was done) as one JSON document.")
@click.option("--as", "as_user", metavar="USERNAME",
              help="Import as this archivist or admin: what they may see, and their name in the audit trail "
                   "(default: the system, which sees everything).")
@with_appcontext
def import_csv(file: Path, do_apply: bool, as_json: bool, as_user: str | None) -> None:
    """Update items by id and create catalogued items from a spreadsheet (a dry run unless --apply).

    Exit 0 when every row was taken, 1 when anything was refused or reported.
    """
    archive = current_archive()
    result: ImportResult | None = None
    viewer = _importer(as_user) if as_user else SYSTEM
    try:
        if do_apply:
            with archive.session(viewer) as session:
                plan = plan_csv_import(session, viewer, file.read_bytes(), source_name=file.name)
                result = apply_csv_import(session, viewer, plan, settings=archive.settings)
        else:
            with archive.Session() as session:  # a dry run: never committed
                plan = plan_csv_import(session, viewer, file.read_bytes(), source_name=file.name)
    except Invalid as exc:
        err.print(f"crossings: {file}: {exc}", markup=False, soft_wrap=True)
        sys.exit(1)

    if result is not None:
        search_sync.sync_index(archive)
    problems = result.problems if result is not None else plan.problems
    if as_json:
        sys.stdout.write(json.dumps(result.as_json() if result is not None else plan.as_json(),
                                    ensure_ascii=False) + "\n")
    else:
        if result is not None:
            plan.updates, plan.creates = result.updated, result.created
        _print_plan(plan, "changed" if result is not None else "would change")
    for problem in problems:
        err.print(f"crossings: {file}: {problem}", markup=False, soft_wrap=True)
    if result is None:
        err.print(plan.summary() + " (a dry run: give --apply to make the changes)", markup=False, soft_wrap=True)
    else:
        done = result.updated or result.created
        err.print(result.summary() + (f" (audit batch {result.batch})" if done else ""), markup=False, soft_wrap=True)
    sys.exit(1 if problems else 0)
