"""`crossings export story JOURNEY OUT`: a journey's offline classroom package (archive.interchange.story)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from archive.app import current_archive
from archive.interchange.commands import export_group
from archive.interchange.story import export_story
from archive.services import NotFound


@export_group.command("story")
@click.argument("journey_id", metavar="JOURNEY", type=int)
@click.argument("out", type=click.Path(path_type=Path))
@with_appcontext
def export_story_command(journey_id: int, out: Path) -> None:
    """Write JOURNEY's offline package (public material only) to the folder OUT and OUT.zip."""
    archive = current_archive()
    if out.exists():
        raise click.UsageError(f"{out} already exists; give a new folder")
    with archive.Session() as session:
        try:
            report = export_story(session, archive.store, journey_id, out, identity=archive.identity)
        except NotFound as exc:
            raise click.UsageError(f"journey {journey_id} is not there or not public: a story package "
                                   f"holds only what anyone may see ({exc})") from exc
    click.echo(f"story {report.folder} and {report.zip_path}: {report.legs} legs, {report.clips} clips, "
               f"{report.files} files, {report.bytes:,} bytes; open {report.folder / 'index.html'}")
    for item_id, reason in sorted(report.without_media.items()):
        click.echo(f"item {item_id}: listed without media: {reason}", err=True)
