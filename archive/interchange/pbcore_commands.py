"""`crossings export pbcore` and `crossings export dc`: the records of many items, for a partner
archive or a catalogue that reads PBCore 2.1 or Dublin Core.

pbcore: one pbcoreCollection (one file, or stdout), streamed item by item. dc: simple Dublin Core has
no standard wrapper for many records, so it writes one oai_dc:dc file per item into a folder
(item-<id>.dc.xml), each valid on its own against oai_dc.xsd. Both take the items of the shared
selection options and see them with the shared viewer options (default: everything, as the system).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import BinaryIO

import click
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from archive.access import Viewer
from archive.core import Archive
from archive.interchange import record
from archive.interchange.commands import (export_group, export_selection, export_viewer, selection_options,
                                          viewer_options)
from archive.interchange.dublin_core import dc_document
from archive.interchange.pbcore import write_pbcore_collection
from archive.interchange.selection import Selection, selected_item_ids
from archive.services import NotFound


def _current_archive() -> Archive:
    from archive.app import current_archive
    return current_archive()


def _chosen(session: Session, archive: Archive, public: bool, as_user: str | None, collection_id: int | None,
            journey_id: int | None, search_q: str | None, search_filters: tuple[str, ...],
            ) -> tuple[Viewer, Selection, list[int]]:
    selection = export_selection(collection_id, journey_id, search_q, search_filters)
    try:
        viewer = export_viewer(session, public, as_user)
        return viewer, selection, selected_item_ids(session, viewer, archive.index, selection)
    except NotFound as exc:
        raise click.ClickException(f"no {exc}") from exc


@export_group.command("pbcore")
@click.option("-o", "--output", default="-", metavar="FILE",
              help="Write the pbcoreCollection here (default: - for stdout).")
@click.option("--title", help="The collection's title (default: the archive's name and what was selected).")
@selection_options
@viewer_options
@with_appcontext
def export_pbcore(output: str, title: str | None, public: bool, as_user: str | None, collection_id: int | None,
                  journey_id: int | None, search_q: str | None, search_filters: tuple[str, ...]) -> None:
    """Write a PBCore 2.1 pbcoreCollection of the selected items, as the viewer may see them."""
    from archive.cli import _progress

    archive = _current_archive()
    with archive.Session() as session:
        viewer, selection, item_ids = _chosen(session, archive, public, as_user, collection_id, journey_id,
                                              search_q, search_filters)
        if not item_ids:
            click.echo(f"crossings: {output}: nothing to export: {selection.describe()} holds no item "
                       f"{viewer.name} may see", err=True)
            sys.exit(1)
        heading = title or f"{archive.identity.name}: {selection.describe()}"
        try:
            with _progress("PBCore") as progress, _opened(output) as out:
                task = progress.add_task("", total=len(item_ids))
                written = write_pbcore_collection(
                    out, session, viewer, item_ids, archive.identity, title=heading,
                    description=f"{selection.describe()}, as {viewer.name} may see it",
                    on_item=lambda item: progress.advance(task))
        except ValueError as exc:  # the items went out of sight between choosing and writing them
            click.echo(f"crossings: {output}: {exc}", err=True)
            sys.exit(1)
    click.echo(f"{written} records written to {'stdout' if output == '-' else output}", err=True)


@export_group.command("dc")
@click.option("-d", "--directory", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write one item-<id>.dc.xml per item into (made if missing).")
@selection_options
@viewer_options
@with_appcontext
def export_dc(directory: Path, public: bool, as_user: str | None, collection_id: int | None,
              journey_id: int | None, search_q: str | None, search_filters: tuple[str, ...]) -> None:
    """Write a Dublin Core (oai_dc) record per selected item, as the viewer may see it."""
    from archive.cli import _progress

    archive = _current_archive()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise click.ClickException(f"{directory}: {exc.strerror or exc}") from exc
    with archive.Session() as session:
        viewer, selection, item_ids = _chosen(session, archive, public, as_user, collection_id, journey_id,
                                              search_q, search_filters)
        written = 0
        with _progress("Dublin Core") as progress:
            task = progress.add_task("", total=len(item_ids))
            for item in record.iter_items(session, viewer, item_ids):
                target = directory / f"item-{item.id}.dc.xml"
                _write_whole(target, dc_document(session, viewer, item, archive.identity))
                written += 1
                progress.advance(task)
    click.echo(f"{written} records written to {directory}", err=True)


class _opened:
    """A binary stream to `output`: stdout for "-", else FILE.part renamed onto FILE when the export
    has finished, so that an export that fails leaves no truncated file behind it."""

    def __init__(self, output: str) -> None:
        self.output = output
        self.part = Path(f"{output}.part") if output != "-" else None
        self.stream: BinaryIO | None = None

    def __enter__(self) -> BinaryIO:
        if self.part is None:
            return sys.stdout.buffer
        try:
            self.stream = self.part.open("wb")
        except OSError as exc:
            raise click.ClickException(f"{self.output}: {exc.strerror or exc}") from exc
        return self.stream

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        if self.part is None:
            sys.stdout.buffer.flush()
            return
        assert self.stream is not None
        self.stream.close()
        if kind is None:
            os.replace(self.part, self.output)
        else:
            self.part.unlink(missing_ok=True)


def _write_whole(target: Path, data: bytes) -> None:
    part = target.with_name(target.name + ".part")
    part.write_bytes(data)
    os.replace(part, target)
