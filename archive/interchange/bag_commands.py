"""`crossings export bag OUT` and `crossings import bag BAG` (archive.interchange.bag_export / bag_import)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn, TransferSpeedColumn

from archive.app import current_archive
from archive.interchange.bag_export import export_bag
from archive.interchange.bag_import import BagRefused, import_bag
from archive.interchange.bag_restore import RestoreRefused
from archive.interchange.commands import (export_group, export_selection, export_viewer, import_group,
                                          selection_options, viewer_options)
from archive.services import Invalid, NotFound

err = Console(stderr=True, highlight=False)


@export_group.command("bag")
@click.argument("out", type=click.Path(path_type=Path))
@selection_options
@viewer_options
@click.option("--with-accounts", is_flag=True,
              help="A backup only: keep the accounts' password hashes (the bag says it is confidential).")
@click.option("--holey", is_flag=True,
              help="List the originals in fetch.txt with a URL instead of copying them.")
@click.option("--fetch-base", metavar="URL",
              help="With --holey: where the originals are, e.g. file:///backups/full-bag (its data/originals/...).")
@with_appcontext
def export_bag_command(out: Path, collection_id: int | None, journey_id: int | None, search_q: str | None,
                       search_filters: tuple[str, ...], public: bool, as_user: str | None, with_accounts: bool,
                       holey: bool, fetch_base: str | None) -> None:
    """Write a BagIt package of the archive (a backup when it is all of it, as an admin) to OUT."""
    archive = current_archive()
    selection = export_selection(collection_id, journey_id, search_q, search_filters)
    with archive.Session() as session:
        try:
            viewer = export_viewer(session, public, as_user)
        except NotFound as exc:
            raise click.UsageError(f"--as: no account {exc}") from exc
        # One bar of bytes (originals dominate), with the files counted beside it.
        progress = Progress(TextColumn("Bagging"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                            TextColumn("{task.description}"), TimeElapsedColumn(), console=err, transient=False)
        with progress:
            task = progress.add_task("", total=None)

            def on_progress(done: int, total: int, done_bytes: int, total_bytes: int) -> None:
                progress.update(task, completed=done_bytes, total=total_bytes or None,
                                description=f"{done}/{total} files")

            try:
                report = export_bag(session, viewer, archive.store, archive.index, selection, out,
                                    identity=archive.identity, public=public, with_accounts=with_accounts,
                                    holey=holey, fetch_base=fetch_base, progress=on_progress)
            except NotFound as exc:
                raise click.UsageError(f"{exc} is not there, or not to be seen by this viewer") from exc
            except Invalid as exc:
                raise click.UsageError(str(exc)) from exc
    kind = "backup" if report.backup else "bag"
    click.echo(f"{kind} {report.path}: {report.items} items, {report.files} payload files, {report.bytes:,} bytes "
               f"({report.linked} hard-linked, {report.copied} copied, {report.fetched} in fetch.txt)")
    for media_id, reason in sorted(report.withheld.items()):
        click.echo(f"media file {media_id}: {reason}", err=True)


@import_group.command("bag")
@click.argument("bag", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print every record's outcome as JSON on stdout.")
@with_appcontext
def import_bag_command(bag: Path, as_json: bool) -> None:
    """Validate a BagIt package and restore it (into an empty archive) or merge it."""
    archive = current_archive()
    try:
        report = import_bag(archive, bag)
    except BagRefused as exc:
        for problem in exc.problems:
            click.echo(f"crossings: {bag}/{problem}", err=True)
        click.echo(f"crossings: {bag}: not imported", err=True)
        raise SystemExit(1) from exc
    except RestoreRefused as exc:
        click.echo(f"crossings: {bag}: {exc}; nothing imported", err=True)
        raise SystemExit(1) from exc
    except (SQLAlchemyError, ValueError, TypeError) as exc:  # values the catalogue cannot take
        message = str(exc).splitlines()[0]
        click.echo(f"crossings: {bag}/data/catalogue.json: {type(exc).__name__}: {message}; nothing imported",
                   err=True)
        raise SystemExit(1) from exc
    counts = report.counts()
    if as_json:
        click.echo(json.dumps({"mode": report.mode, "files_placed": report.files_placed, "fetched": report.fetched,
                               "counts": counts, "notes": report.notes, "records": report.records},
                              ensure_ascii=False, default=str))
        return
    click.echo(f"{report.mode} of {bag}: {report.total('new')} new, {report.total('same')} same, "
               f"{report.total('conflicted')} conflicted, {report.total('left out')} left out; "
               f"{report.files_placed} files placed, {report.fetched} fetched")
    for name, per in counts.items():
        click.echo(f"  {name}: " + ", ".join(f"{n} {outcome}" for outcome, n in sorted(per.items())))
    for record in report.records:
        if record["outcome"] == "conflicted":
            click.echo(f"  conflict: {record['table']} {record['key']}: " + "; ".join(
                f"{c}: archive {a!r}, bag {b!r}" for c, (a, b) in record["differences"].items()))
    for note in report.notes:
        click.echo(f"  {note}")
