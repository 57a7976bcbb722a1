"""`crossings export ...` and `crossings import ...`: one subcommand per format, each defined beside
its format (archive.interchange.*_commands) and attached here."""

from __future__ import annotations

import click

export_group = click.Group("export", help="Write records and packages other archives read.")
import_group = click.Group("import", help="Bring in records and packages made here or elsewhere.")
