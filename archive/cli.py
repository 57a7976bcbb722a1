"""The `crossings` command: Flask's CLI group plus the archive's own commands."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from sqlalchemy import func, select
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from archive import db
from archive.app import create_app, current_archive
from archive.models import AccessLevel, CollectionGrant, Job, JobState, LocationPrecision, MediaFile
from archive.services import Invalid, NotFound, accounts, counted, jobs
from archive.services.fixity import fixity_status, verify_store
from archive.interchange.commands import export_group, import_group
from archive.services.ingest import IngestOptions, display_path, ingest_paths
from archive.settings import SettingsError

err = Console(stderr=True, highlight=False)


def _create_app() -> Flask:
    try:
        return create_app()
    except SettingsError as exc:
        # A misconfiguration is the user's to fix: say which setting, without a traceback.
        err.print(f"crossings: {exc}", markup=False)
        sys.exit(2)


#: The archive's own commands; create_app adds them to app.cli, so Flask's `crossings run`,
#: `crossings shell` and these share one group, and tests reach them through app.test_cli_runner().
commands = click.Group()


def register(app: Flask) -> None:
    for command in commands.commands.values():
        app.cli.add_command(command)


main = FlaskGroup(create_app=_create_app, add_version_option=True,
                  help="Crossings: a documentary archive of footage and stills, places and journeys.")


def _progress(label: str) -> Progress:
    return Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("{task.description}"), console=err, transient=False)


@commands.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--collection", help="Collection to put the items in; created when it does not exist.")
@click.option("--access", type=click.Choice([a.value for a in AccessLevel]),
              help="Access level of the new items (default: the default_access setting, restricted unless "
                   "changed).")
@click.option("--location-precision", type=click.Choice([p.value for p in LocationPrecision]),
              help="Precision at which their GPS positions are published to viewers who may not see them exactly "
                   "(default: the default_location_precision setting, km10 unless changed).")
@click.option("--defer-thumbnails/--thumbnails-now", "defer", default=None,
              help="Leave thumbnails to the worker (crossings worker) and catalogue sooner, or make them "
                   "during the run (default: the defer_thumbnails setting, false unless changed).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON document on stdout.")
@with_appcontext
def ingest(paths: tuple[Path, ...], collection: str | None, access: str | None, location_precision: str | None,
           defer: bool | None, as_json: bool) -> None:
    """Ingest files and folders: store, probe, make thumbnails, catalogue."""
    archive = current_archive()
    defer = archive.settings["defer_thumbnails"] if defer is None else defer
    options = IngestOptions(collection=collection, access=AccessLevel(access) if access else None,
                            location_precision=LocationPrecision(location_precision) if location_precision else None,
                            defer_thumbnails=defer)
    with _progress("Ingesting") as progress:
        task = progress.add_task("", total=None)

        def on_total(total: int) -> None:
            progress.update(task, total=total)

        def on_progress(outcome: str, path: Path, detail: str) -> None:
            progress.advance(task)
            progress.update(task, description=display_path(path.name)[-40:])
            if outcome == "failed":
                progress.console.print(f"[red]failed[/red] {display_path(path)}: {detail}", markup=True,
                                       soft_wrap=True)

        try:
            report = ingest_paths(archive, list(paths), options, on_progress, on_total=on_total)
        except Invalid as exc:
            raise click.UsageError(str(exc)) from exc
    if as_json:
        sys.stdout.write(json.dumps(report.as_json(), ensure_ascii=False) + "\n")
    err.print(f"{len(report.ingested)} ingested, {len(report.duplicates)} already in the archive, "
              f"{len(report.failed)} failed", highlight=False)
    if defer and report.ingested:
        err.print(f"thumbnails of {counted(len(report.ingested), 'item')} are left to the worker: "
                  "run `crossings worker` (make demo starts one)", highlight=False, markup=False)
    if not as_json:
        for entry in report.ingested:
            if "catalogued_record" in entry:
                err.print(f"{entry['path']}: attached to item {entry['item_id']} (catalogued record "
                          f"{entry['catalogued_record']})", markup=False, soft_wrap=True)
            for warning in entry.get("warnings", ()):
                err.print(f"warning {entry['path']} (item {entry['item_id']}): {warning}", markup=False)
        for entry in report.duplicates:
            err.print(f"duplicate {entry['path']}: already item {entry['item_id']}", markup=False)
        for entry in report.failed:
            err.print(f"failed {entry['path']}: {entry['reason']}", markup=False)
    sys.exit(0 if report.ok else 1)


@commands.command()
@click.option("--repair", is_flag=True, help="Re-make missing derivatives (originals are never changed).")
@click.option("--report", is_flag=True, help="Hash nothing: report what the recorded checks (the nightly ones "
              "and earlier runs of verify) found, and how many originals are overdue.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON document on stdout.")
@with_appcontext
def verify(repair: bool, report: bool, as_json: bool) -> None:
    """Fixity check: re-hash every stored original, look for missing derivatives."""
    archive = current_archive()
    if report:
        if repair:
            raise click.UsageError("--report hashes and repairs nothing; leave out --repair")
        _fixity_report(as_json)
    archive.recover()
    with archive.session() as session:
        total = session.scalar(select(func.count(MediaFile.id))) or 0
        with _progress("Verifying") as progress:
            task = progress.add_task("", total=total)
            report = verify_store(archive, session, repair=repair,
                                  on_progress=lambda media: progress.advance(task))
    if as_json:
        sys.stdout.write(json.dumps(report.as_json(), ensure_ascii=False) + "\n")
    for entry in report.missing:
        err.print(f"MISSING original of item {entry['item_id']} ({entry['original_name']}), sha256 {entry['sha256']}",
                  markup=False)
    for entry in report.changed:
        err.print(f"CHANGED original of item {entry['item_id']} ({entry['original_name']}): expected sha256 "
                  f"{entry['sha256']}, found {entry['actual_sha256']}", markup=False)
    for entry in report.missing_derivatives:
        err.print(f"missing {entry['kind']} of item {entry['item_id']}: {entry['path'] or 'never made'}", markup=False)
    for entry in report.repaired:
        err.print(f"repaired {entry['kind']} of item {entry['item_id']} ({entry['how']})", markup=False)
    for entry in report.repair_failed:
        err.print(f"could not repair {entry['kind']} of item {entry['item_id']}: {entry['reason']}", markup=False)
    err.print(f"{report.checked} originals checked: " + ("all intact" if report.intact else "problems found"))
    sys.exit(0 if report.intact else 1)


def _fixity_report(as_json: bool) -> None:
    archive = current_archive()
    days = archive.settings["fixity_days"]
    with archive.Session() as session:
        status = fixity_status(session, days=days)
    if as_json:
        sys.stdout.write(json.dumps(status.as_json(), ensure_ascii=False) + "\n")
    for entry in status.failures:
        found = f", found sha256 {entry['actual_sha256']}" if entry["actual_sha256"] else ""
        err.print(f"{entry['result'].upper()} original of item {entry['item_id']} ({entry['original_name']}), "
                  f"sha256 {entry['sha256']}{found}; last checked {entry['checked_at']}, failing since "
                  f"{entry['failing_since']}", markup=False)
    for run in status.last_runs[:1]:
        err.print(f"last nightly check: {run['period_start']} by {run['worker']}, job {run['job_id']} {run['state']}",
                  markup=False)
    err.print(f"{status.originals} originals: {counted(len(status.failures), 'failure')}, "
              f"{status.never_checked} never checked, {status.overdue} not checked within {days} days")
    sys.exit(1 if status.failures else 0)


@commands.command()
@click.option("--once", is_flag=True, help="Work the queued jobs that are due, then exit (periodic jobs, such as "
              "the nightly fixity check, are left to the workers that keep running).")
@with_appcontext
def worker(once: bool) -> None:
    """Run background jobs (web proxies, deferred thumbnails, the nightly fixity check) from the database.

    Run one on each machine that should share the work: they take jobs from the same database.
    """
    from archive.worker import run
    archive = current_archive()
    if not once:
        err.print(f"worker started on {archive.data_root}; Ctrl-C stops it")
    try:
        count = run(archive, once=once, log=lambda line: err.print(line, markup=False))
    except KeyboardInterrupt:
        return
    if once:
        err.print(f"{count} job(s) run")


@commands.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--workers", type=click.IntRange(min=1),
              help="Web server processes (default: the web_workers setting; 0 there: one per core, 2 to 8).")
@click.option("--threads", type=click.IntRange(min=1),
              help="Requests one process handles at once (default: the web_threads setting, 4 unless changed).")
@with_appcontext
def serve(host: str, port: int, workers: int | None, threads: int | None) -> None:
    """Serve the archive with gunicorn (crossings run is Flask's development server, for --debug work).

    SIGHUP reloads gracefully: new processes with the code and settings now on disk take over
    while the old ones finish their requests. SIGTERM or Ctrl-C stops it.
    """
    from archive.server import gunicorn_cmd, web_concurrency
    archive = current_archive()
    workers, threads = web_concurrency(archive.settings, workers, threads)
    # Opening the archive here ran the migrations and made the shared secret key once, before any
    # worker starts; gunicorn's workers open it again for themselves after they are forked.
    archive.close()
    err.print(f"serving {archive.data_root} at http://{host}:{port} with {workers} processes of {threads} "
              "threads; Ctrl-C stops it", markup=False, soft_wrap=True)
    cmd = gunicorn_cmd(host, port, workers, threads)
    sys.stderr.flush()
    # Replaced rather than run as a child: the master must not have imported the app, so that a
    # reload loads it afresh, and a signal sent to this process (or its group) goes to gunicorn.
    os.execv(cmd[0], cmd)


@commands.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Bring the database up to the newest schema (data is kept)."""
    archive = current_archive()
    before, after = archive.migration or (None, "")
    if before == after:
        click.echo(f"database is up to date (revision {after})")
    else:
        click.echo(f"database upgraded from revision {before or 'empty'} to {after}")


@db_group.command("copy")
@click.argument("target_url")
@with_appcontext
def db_copy(target_url: str) -> None:
    """Copy this catalogue into an empty database at TARGET_URL (e.g. a new PostgreSQL), then check it.

    Every table goes in one transaction; afterwards each table's row count and a sample of its rows
    are compared. The files stay where they are: point database_url at the target to use it.
    """
    from sqlalchemy.exc import SQLAlchemyError

    archive = current_archive()
    if target_url == archive.database_url:
        raise click.ClickException("the target is this catalogue itself")
    target = db.make_engine(target_url)
    with _progress("copying") as bar:
        task = bar.add_task("", total=None)

        def shown(table: str, done: int, total: int) -> None:
            bar.update(task, description=table, completed=done, total=total)
        try:
            report = db.copy_catalogue(archive.engine, target, progress=shown)
        except db.CopyRefused as exc:
            raise click.ClickException(str(exc)) from exc
        except SQLAlchemyError as exc:
            raise click.ClickException(f"the copy failed and the target was left empty: {exc}") from exc
        except db.CopyMismatch as exc:
            raise click.ClickException(f"the copy differs from this catalogue, do not use it: {exc}") from exc
        finally:
            target.dispose()
    click.echo(f"copied {counted(report.total, 'row')} in {counted(len(report.rows), 'table')}; counts match "
               f"and {counted(sum(report.sampled.values()), 'sampled row')} are equal")
    click.echo(f"to use it: CROSSINGS_DATABASE_URL={target.url.render_as_string(hide_password=True)}")


@commands.group("store")
def store_group() -> None:
    """The store of originals and derivatives."""


@store_group.command("copy")
@with_appcontext
def store_copy() -> None:
    """Copy this archive's local store into the S3 bucket the s3_* settings name, verified by checksum.

    Run it while store_backend is still local; an interrupted run is started again and skips what is
    already there with the right checksum. Then set store_backend = "s3" on every node.
    """
    from archive.core import s3_objects
    from archive.services.store_copy import copy_store, store_keys

    archive = current_archive()
    if archive.store.local_path("originals") is None:
        raise click.ClickException("the store is already in S3 (store_backend is s3); copy from a local store")
    try:
        target = s3_objects(archive.settings)
    except SettingsError as exc:
        raise click.ClickException(f"{exc}: name the target bucket in s3_bucket (and s3_endpoint_url)") from exc
    keys = store_keys(archive.store)
    with _progress("Copying") as progress:
        task = progress.add_task("", total=len(keys))
        report = copy_store(archive.store, target, keys=keys, on_progress=lambda key, outcome: progress.advance(task))
    for key, reason in report.failed:
        err.print(f"failed {key}: {reason}", markup=False)
    err.print(f"{counted(len(report.copied), 'file')} copied and verified, "
              f"{counted(len(report.skipped), 'file')} already there", highlight=False)
    if report.ok:
        err.print('every file is in the bucket: set store_backend = "s3" on every node', highlight=False)
    sys.exit(0 if report.ok else 1)


@commands.group("jobs")
def jobs_group() -> None:
    """Background jobs."""


@jobs_group.command("list")
@click.option("--state", type=click.Choice([s.value for s in JobState]))
@with_appcontext
def jobs_list(state: str | None) -> None:
    """List jobs, newest first."""
    with current_archive().Session() as session:
        for job in jobs.list_jobs(session, state=JobState(state) if state else None):
            click.echo(f"{job.id}\t{job.kind}\titem {job.item_id}\t{_job_state(job)}\t{job.attempts}\t"
                       f"{_last_line(job.error)}")
            for failure in job.failures[:-1] if job.error else job.failures:  # earlier reasons, oldest first
                click.echo(f"\t\tattempt {failure['attempt']} failed {failure['at']} on {failure['worker']}: "
                           f"{_last_line(failure['error'])}")


def _last_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[-1]


def _job_state(job: Job) -> str:
    if job.state is JobState.queued and job.not_before:
        return f"queued (retry from {job.not_before:%Y-%m-%d %H:%M:%S} UTC)"
    if job.state is JobState.running:
        return f"running on {job.worker}"
    return job.state.value


@jobs_group.command("retry")
@click.argument("job_id", type=int)
@with_appcontext
def jobs_retry(job_id: int) -> None:
    """Queue a failed job again."""
    try:
        with current_archive().session() as session:
            jobs.retry(session, job_id)
    except (NotFound, Invalid) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"job {job_id} queued again")


@commands.command()
@with_appcontext
def demo() -> None:
    """Build the demo archive (idempotent)."""
    from archive.demo import build_demo, summary
    archive = current_archive()
    with _progress("Demo") as progress:
        class Stages:
            """Shows build_demo's stages as rich progress bars on stderr."""
            task = None
            name = ""

            def stage(self, name: str, total: int) -> None:
                self.name = name
                self.task = progress.add_task(name, total=total)

            def advance(self, label: str) -> None:
                progress.update(self.task, advance=1, description=f"{self.name}: {label}"[:60])

        report = build_demo(archive, Stages())
    for key, reason in report.failed:
        err.print(f"failed {key}: {reason}", markup=False, soft_wrap=True)
    click.echo(summary(report))
    with archive.session() as session:
        made = accounts.ensure_demo_users(session)
    if made:
        # Shown once: only the password hashes are kept.
        click.echo("Demo accounts (passwords are shown only now; log in at /login):")
        for username, role, password in made:
            click.echo(f"  {username:<11} {role.value:<11} password: {password}")
    sys.exit(0 if report.complete else 1)


@commands.group("users")
def users_group() -> None:
    """Accounts: create, list, set roles and passwords, deactivate, grant confidential collections."""


def _fail(exc: Exception) -> None:
    raise click.ClickException(f"not found: {exc}" if isinstance(exc, NotFound) else str(exc)) from exc


@users_group.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice([r.value for r in accounts.ACCOUNT_ROLES]))
@click.option("--password-stdin", is_flag=True, help="Read the password as one line from standard input.")
@with_appcontext
def users_create(username: str, role: str, password_stdin: bool) -> None:
    """Create an account (the password is prompted for unless --password-stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with current_archive().session() as session:
            user = accounts.create_user(session, username, password, role)
            name = user.username
    except (Invalid, NotFound) as exc:
        _fail(exc)
    click.echo(f"user {name} created ({role})")


@users_group.command("list")
@with_appcontext
def users_list() -> None:
    """List accounts with their roles and granted collections."""
    with current_archive().Session() as session:
        for user in accounts.list_users(session):
            grants = ", ".join(_grant_text(g) for g in user.grants) or "-"
            state = "" if user.active else " (disabled)"
            click.echo(f"{user.username}\t{user.role.value}{state}\tgrants: {grants}")


def _grant_text(grant: CollectionGrant) -> str:
    """`ID:Title`, with its end: "until DAY", or "expired DAY" once past."""
    text = f"{grant.collection_id}:{grant.collection.title}"
    if grant.expires_on is None:
        return text
    state = "until" if grant.in_force(accounts.today()) else "expired"
    return f"{text} ({state} {grant.expires_on.isoformat()})"


@users_group.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice([r.value for r in accounts.ACCOUNT_ROLES]))
@with_appcontext
def users_set_role(username: str, role: str) -> None:
    """Change an account's role."""
    try:
        with current_archive().session() as session:
            accounts.set_role(session, username, role)
    except (Invalid, NotFound) as exc:
        _fail(exc)
    click.echo(f"user {username} is now {role}")


@users_group.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password as one line from standard input.")
@with_appcontext
def users_set_password(username: str, password_stdin: bool) -> None:
    """Give an account a new password; its logins end."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with current_archive().session() as session:
            accounts.set_password(session, username, password)
    except (Invalid, NotFound) as exc:
        _fail(exc)
    click.echo(f"user {username} has a new password; their logins have ended")


@users_group.command("deactivate")
@click.argument("username")
@with_appcontext
def users_deactivate(username: str) -> None:
    """Stop an account from logging in; its logins end."""
    try:
        with current_archive().session() as session:
            accounts.set_active(session, username, False)
    except (Invalid, NotFound) as exc:
        _fail(exc)
    click.echo(f"user {username} is deactivated")


@users_group.command("reactivate")
@click.argument("username")
@with_appcontext
def users_reactivate(username: str) -> None:
    """Let a deactivated account log in again."""
    try:
        with current_archive().session() as session:
            accounts.set_active(session, username, True)
    except (Invalid, NotFound) as exc:
        _fail(exc)
    click.echo(f"user {username} may log in again")


@users_group.command("grant")
@click.argument("username")
@click.argument("collection_id", type=int)
@click.option("--until", "until", metavar="YYYY-MM-DD",
              help="The grant's last day (UTC, included); granting again without it removes the end.")
@with_appcontext
def users_grant(username: str, collection_id: int, until: str | None) -> None:
    """Let an account see a collection's confidential items, until a day if given."""
    try:
        expires = accounts.parse_expiry(until)
        with current_archive().session() as session:
            accounts.grant(session, username, collection_id, expires=expires)
    except (Invalid, NotFound) as exc:
        _fail(exc)
    end = f" until the end of {expires.isoformat()} (UTC)" if expires else ""
    click.echo(f"user {username} may now see confidential items of collection {collection_id}{end}")


@users_group.command("revoke")
@click.argument("username")
@click.argument("collection_id", type=int)
@with_appcontext
def users_revoke(username: str, collection_id: int) -> None:
    """Take back a grant."""
    try:
        with current_archive().session() as session:
            accounts.revoke(session, username, collection_id)
    except (Invalid, NotFound) as exc:
        _fail(exc)
    click.echo(f"user {username} no longer sees confidential items of collection {collection_id}")


# -- items ------------------------------------------------------------------------------------

@commands.group("items")
def items_group() -> None:
    """Items of the catalogue."""


def _on_terminal() -> bool:
    """Can the command ask its user? Not under CI, a pipe or cron: it must never wait for an answer there."""
    return sys.stdin.isatty()


@items_group.command("set-access")
@click.argument("item_ids", metavar="ID...", nargs=-1, required=True, type=click.IntRange(min=1))
@click.argument("level", type=click.Choice([a.value for a in AccessLevel]))
@click.option("--yes", is_flag=True, help="Make items public without asking (needed when not run on a terminal).")
@with_appcontext
def items_set_access(item_ids: tuple[int, ...], level: str, yes: bool) -> None:
    """Set the access level of items. Making them public first shows what anyone would then see (GPS
    precision, transcripts, downloadable originals) and asks; without a terminal it needs --yes.

    Exit 0 when every item is now at LEVEL; 1 when one was not found (the others are changed) or the
    change was refused or not confirmed (nothing is changed).
    """
    from archive.services.editing import bulk_edit, publication_preview
    archive = current_archive()
    ids = list(dict.fromkeys(item_ids))
    with archive.Session() as session:
        preview = publication_preview(session, SYSTEM, ids, level)
    if preview.needs_confirmation and not yes:
        for line in preview.lines():
            err.print(line, markup=False)
        if not _on_terminal():
            err.print("refused: making items public is confirmed on a terminal, or with --yes; nothing was changed",
                      markup=False)
            sys.exit(1)
        if not click.confirm(f"Make {counted(len(preview.items), 'item')} public?", err=True):
            err.print("nothing was changed", markup=False)
            sys.exit(1)
    try:
        with archive.session() as session:
            again = publication_preview(session, SYSTEM, ids, level)
            if not yes and {e.item_id for e in again.items} - {e.item_id for e in preview.items}:
                raise Invalid("items were changed while you were asked; nothing was changed, run it again")
            result = bulk_edit(session, SYSTEM, ids, access=level)
    except Invalid as exc:
        err.print(f"refused: {exc}", markup=False)
        sys.exit(1)
    for item_id in result.not_found:
        err.print(f"item {item_id} not found", markup=False)
    click.echo(result.summary())
    sys.exit(1 if result.not_found else 0)


# -- transcripts and the search index (issue 4) ------------------------------------------------

from archive.access import SYSTEM  # noqa: E402  (kept with the commands that use them)
from archive.models import TranscriptKind  # noqa: E402
from archive.search import SearchRequest  # noqa: E402
from archive.services import search_sync  # noqa: E402
from archive.services.search import find_items  # noqa: E402
from archive.services.catalogue import get_item  # noqa: E402
from archive.services.transcripts import export_transcript, get_transcript, import_transcript  # noqa: E402
from archive.transcripts import format_time  # noqa: E402


@commands.group("transcripts")
def transcripts_group() -> None:
    """Time-coded transcripts and subtitles of items."""


@transcripts_group.command("import")
@click.argument("item_id", type=int)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--language", help="BCP 47 tag (default: from the name, as in clip.ko.vtt).")
@click.option("--kind", type=click.Choice([k.value for k in TranscriptKind]), default="transcript",
              show_default=True)
@click.option("--encoding", help="Text encoding of the file (default: detected).")
@with_appcontext
def transcripts_import(item_id: int, file: Path, language: str | None, kind: str, encoding: str | None) -> None:
    """Attach a WebVTT, SRT or timestamped text file to an item (replacing one of the same language and kind).

    Exit 0 when imported (problems are listed on stderr), 1 when refused.
    """
    archive = current_archive()
    try:
        with archive.session() as session:
            item = get_item(session, SYSTEM, item_id)
            result = import_transcript(session, item, file.read_bytes(), file.name, language=language,
                                       kind=kind, encoding=encoding)
            transcript_id, count, replaced = result.transcript.id, result.segment_count, result.replaced
            lang = result.transcript.language or "no language"
    except (Invalid, NotFound) as exc:
        err.print(f"refused: {exc}", markup=False)
        sys.exit(1)
    search_sync.sync_index(archive)  # normally done at the commit already; makes sure before returning
    for problem in result.problems:
        err.print(f"problem: {file.name}, {problem}", markup=False)
    click.echo(f"{'replaced' if replaced else 'imported'} transcript {transcript_id} of item {item_id} "
               f"({lang}, {kind}): {count} segments")


@transcripts_group.command("export")
@click.argument("item_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["vtt", "srt"]), default="vtt", show_default=True)
@click.option("--language", help="Which transcript, when the item has several.")
@click.option("--kind", type=click.Choice([k.value for k in TranscriptKind]))
@with_appcontext
def transcripts_export(item_id: int, fmt: str, language: str | None, kind: str | None) -> None:
    """Print an item's transcript as WebVTT or SubRip."""
    try:
        with current_archive().session() as session:
            transcript = get_transcript(session, SYSTEM, item_id, language=language, kind=kind)
            text, _ = export_transcript(transcript, fmt)
    except (Invalid, NotFound) as exc:
        raise click.ClickException(str(exc)) from exc
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


@commands.group("index")
def index_group() -> None:
    """The full-text search index (a cache of the database)."""


@index_group.command("rebuild")
@with_appcontext
def index_rebuild() -> None:
    """Build the search index anew from the database (searches go on over the old one meanwhile)."""
    archive = current_archive()
    with _progress("Indexing") as progress:
        task = progress.add_task("", total=None)
        count = search_sync.rebuild_index(
            archive, on_total=lambda total: progress.update(task, total=total),
            on_item=lambda doc: progress.advance(task))
    stats = archive.index.stats()
    click.echo(f"indexed {count} items, {stats.get('documents', 0)} documents "
               f"({stats.get('bytes', 0) / 1e6:.1f} MB)")


@index_group.command("check")
@click.option("--fix", is_flag=True, help="Mend the drift found: index what is missing or stale, drop the rest.")
@with_appcontext
def index_check(fix: bool) -> None:
    """Compare the index with the database. Exit 0 when in step (or mended), 1 when drift remains."""
    report = search_sync.check_index(current_archive(), fix=fix)
    for label, ids in (("missing from the index", report.missing), ("in the index but deleted or in the trash",
                                                                    report.extra),
                       ("indexed at an older version", report.stale)):
        if ids:
            shown = ", ".join(map(str, ids[:20])) + (f" and {len(ids) - 20} more" if len(ids) > 20 else "")
            err.print(f"{len(ids)} item(s) {label}: {shown}", markup=False)
    if report.collections:
        err.print(f"{len(report.collections)} collection(s) out of step: "
                  f"{', '.join(map(str, report.collections[:20]))}", markup=False)
    if report.outbox:
        err.print(f"{report.outbox} change(s) committed but not yet indexed", markup=False)
    if report.clean:
        click.echo("search index is in step with the database")
    elif report.fixed:
        click.echo("drift found and mended")
    else:
        click.echo("drift found" + ("; could not mend it all" if fix else "; run with --fix to mend it"))
    sys.exit(0 if report.clean or report.fixed else 1)


@index_group.command("search")
@click.argument("query")
@click.option("--page", type=int, default=1)
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON.")
@with_appcontext
def index_search(query: str, page: int, as_json: bool) -> None:
    """Search as an administrator (sees everything), e.g. to try the index from a shell."""
    archive = current_archive()
    try:
        with archive.session() as session:
            response = find_items(session, SYSTEM, archive.index, SearchRequest(q=query, page=page)).response
    except Invalid as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        sys.stdout.write(json.dumps(response.as_json(), ensure_ascii=False) + "\n")
        return
    if response.message:
        err.print(response.message, markup=False)
    if response.suggestion:
        err.print(f"did you mean: {response.suggestion}", markup=False)
    click.echo(f"{response.total_items} item(s)")
    for item in response.items:
        click.echo(f"{item.item_id}\t{item.title}\t{item.score:.2f}")
        for hit in item.hits:
            click.echo(f"\t{format_time(hit.start)}\t{hit.snippet_html}")


# -- places and the gazetteer (issue 5) --------------------------------------------------------

from archive.models import PlaceKind  # noqa: E402
from archive.services.gazetteer import FORMATS, import_gazetteer  # noqa: E402
from archive.services.places import list_places, places_geojson  # noqa: E402

#: Files with more lines than this get a progress bar.
PROGRESS_LINES = 1000


@commands.group("places")
def places_group() -> None:
    """The gazetteer: places, with their countries and positions."""


@places_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS),
              help="csv (a header: name, kind, country, latitude, longitude, alt_names, parent, description) or "
                   "geonames (the tab-separated dump). Default: guessed from the first line.")
@with_appcontext
def places_import(file: Path, fmt: str | None) -> None:
    """Add or update places from a gazetteer file; bad rows are reported and left out.

    Exit 0 when at least one place was imported, 1 when none was.
    """
    try:
        lines = file.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    except (UnicodeDecodeError, OSError) as exc:
        err.print(f"{file}: cannot read it as UTF-8 text: {exc}", markup=False)
        sys.exit(1)
    try:
        with current_archive().session() as session:
            if len(lines) > PROGRESS_LINES:
                with _progress("Importing") as progress:
                    task = progress.add_task(file.name, total=len(lines))
                    report = import_gazetteer(session, SYSTEM, lines, fmt=fmt, source=str(file),  # type: ignore[arg-type]
                                              on_line=lambda n: progress.update(task, completed=n))
            else:
                report = import_gazetteer(session, SYSTEM, lines, fmt=fmt, source=str(file))  # type: ignore[arg-type]
    except Invalid as exc:
        err.print(f"{file}: {exc}", markup=False)
        sys.exit(1)
    for message in report.messages():
        err.print(message, markup=False, soft_wrap=True)
    click.echo(f"{report.created} places created, {report.updated} updated, {len(report.problems)} problems "
               f"in {file}")
    sys.exit(0 if report.imported else 1)


@places_group.command("list")
@click.option("--country", help="ISO 3166-1 alpha-2 code, e.g. KP.")
@click.option("--kind", type=click.Choice([k.value for k in PlaceKind]))
@click.option("--json", "as_json", is_flag=True, help="Print the places as GeoJSON on stdout.")
@with_appcontext
def places_list(country: str | None, kind: str | None, as_json: bool) -> None:
    """List places with their country, position and number of items."""
    try:
        with current_archive().Session() as session:
            places = list_places(session, SYSTEM, country=country, kind=kind)
    except Invalid as exc:
        raise click.UsageError(str(exc)) from exc
    if as_json:
        sys.stdout.write(json.dumps(places_geojson(places), ensure_ascii=False) + "\n")
        return
    for place in places:
        click.echo(f"{place.id}\t{place.name}\t{place.kind.value}\t{place.country_code or '-'}\t"
                   f"{place.lat:.5f}, {place.lon:.5f}\t{place.precision.value}\t{place.item_count} items")


commands.add_command(export_group)
commands.add_command(import_group)
from archive.token_commands import tokens_group  # noqa: E402  (kept with the groups it joins)
commands.add_command(tokens_group)
