"""`crossings import pbcore FILE...`: PBCore records in, as items catalogued before their media."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from archive.access import SYSTEM
from archive.app import current_archive
from archive.interchange.commands import import_group
from archive.interchange.pbcore_import import ImportReport, RecordOutcome, import_pbcore
from archive.models import AccessLevel
from archive.services import Invalid, audit

err = Console(stderr=True, highlight=False)


@import_group.command("pbcore")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--collection", metavar="TITLE",
              help="Put every item in this collection (created when missing); default: each record's series title.")
@click.option("--access", type=click.Choice([a.value for a in AccessLevel]),
              help="Access level of the new items (default: the default_access setting, restricted unless changed).")
@click.option("--json", "as_json", is_flag=True,
              help="Print each record's outcome on stdout, one JSON object a line (file, record, outcome, item_id, "
                   "title, messages).")
@with_appcontext
def import_pbcore_command(files: tuple[Path, ...], collection: str | None, access: str | None, as_json: bool) -> None:
    """Import PBCore 2.0/2.1 files: description documents, collections of them, instantiation documents.

    Each file is imported in a transaction of its own: a file that fails leaves none of its records.
    """
    archive = current_archive()
    totals = {"created": 0, "updated": 0, "refused": 0, "warned": 0}
    for path in files:
        name = path.name
        try:
            with archive.session(SYSTEM) as session, audit.labelled(session, "import", batch=True):
                report = import_pbcore(session, SYSTEM, path, source_name=name, collection=collection,
                                       access=access)
        except (Invalid, SQLAlchemyError) as exc:  # nothing of this file was kept; the batch goes on
            reason = str(exc.orig) if isinstance(exc, SQLAlchemyError) and getattr(exc, "orig", None) else str(exc)
            report = ImportReport(name, [RecordOutcome("", "refused", messages=[f"nothing imported: {reason}"])])
        for key in totals:
            totals[key] += getattr(report, key)
        for record in report.records:
            if as_json:
                sys.stdout.write(json.dumps(record.as_json(name), ensure_ascii=False) + "\n")
            where = f"{name}: {record.path}: " if record.path else f"{name}: "
            if record.outcome == "refused":
                err.print(f"crossings: {where}{'; '.join(record.messages)}", markup=False, soft_wrap=True)
            elif not as_json:
                for message in record.messages:
                    err.print(f"warning {name} (item {record.item_id}): {message}", markup=False, soft_wrap=True)
    err.print(f"{totals['created']} created, {totals['updated']} updated, {totals['refused']} refused, "
              f"{totals['warned']} with warnings", markup=False)
    sys.exit(1 if totals["refused"] else 0)


