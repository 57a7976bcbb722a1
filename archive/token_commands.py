"""`crossings tokens`: make, list and revoke API tokens from the command line.

The command line acts as SYSTEM (whoever runs it holds the data root), so it may make a token for
any account, which the web lets only the account itself do. A new secret is the only thing
written to standard output, so `crossings tokens create ... > file` keeps just the secret.
"""

from __future__ import annotations

from datetime import datetime

import click
from flask.cli import with_appcontext

from archive.access import SYSTEM
from archive.app import current_archive
from archive.models import ApiToken
from archive.services import Invalid, NotFound, accounts, api_tokens

tokens_group = click.Group("tokens", help="API tokens: create (the secret is shown once), list, revoke.")


def _fail(exc: Exception) -> None:
    raise click.ClickException(f"not found: {exc}" if isinstance(exc, NotFound) else str(exc)) from exc


def _when(value: datetime | None, default: str = "-") -> str:
    return value.isoformat(timespec="seconds") if value else default


def _line(token: ApiToken) -> str:
    return "\t".join((str(token.id), token.user.username, token.name, f"{token.prefix}…",
                      token.scope.value.replace("_", "-"), api_tokens.state(token),
                      f"created {_when(token.created_at)}", f"expires {_when(token.expires_at, 'never')}", f"last used {_when(token.last_used_at, 'never')}"))


@tokens_group.command("create")
@click.argument("username")
@click.option("--name", required=True, help="What uses the token, e.g. 'nightly export'.")
@click.option("--scope", required=True, type=click.Choice(["read", "read-write"]))
@click.option("--expires-days", type=click.IntRange(1, 36500), help="Days until it stops working (default: never).")
@with_appcontext
def tokens_create(username: str, name: str, scope: str, expires_days: int | None) -> None:
    """Make a token for USERNAME; its secret alone goes to standard output, shown this once."""
    try:
        with current_archive().session() as session:
            user = accounts.get_user(session, username)
            token, secret = api_tokens.create_token(session, SYSTEM, user.id, name=name,
                                                    scope=api_tokens.scope_of(scope),
                                                    expires_at=api_tokens.expiry_in_days(expires_days))
            line = _line(token)
    except (Invalid, NotFound) as exc:
        _fail(exc)
    click.echo(f"token created: {line}", err=True)
    click.echo("the secret follows, shown only now (only its hash is kept):", err=True)
    click.echo(secret)


@tokens_group.command("list")
@click.argument("username", required=False)
@with_appcontext
def tokens_list(username: str | None) -> None:
    """List the tokens of USERNAME (of every account without it), newest first."""
    try:
        with current_archive().session() as session:
            user_id = accounts.get_user(session, username).id if username else None
            for token in api_tokens.list_tokens(session, SYSTEM, user_id):
                click.echo(_line(token))
    except NotFound as exc:
        _fail(exc)


@tokens_group.command("revoke")
@click.argument("token_id", type=click.IntRange(1, 2**31 - 1))
@with_appcontext
def tokens_revoke(token_id: int) -> None:
    """Revoke token TOKEN_ID (as `tokens list` numbers them): it opens nothing from now on."""
    try:
        with current_archive().session() as session:
            line = _line(api_tokens.revoke_token(session, SYSTEM, token_id))
    except NotFound as exc:
        _fail(exc)
    click.echo(f"revoked: {line}")
