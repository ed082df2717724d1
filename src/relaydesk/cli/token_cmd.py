"""`relaydesk token`: mint, list and revoke API tokens.

`relaydesk token EMAIL` is short for `relaydesk token create EMAIL`, as it was before tokens
could be listed and revoked.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table
from typer.core import TyperGroup

from relaydesk.cli.common import console, err_console, fail, opened

# The auth service, the repository and the database are imported inside each command: `relaydesk
# token` alone prints this group's help and must not pay for SQLAlchemy (see cli/main.py).


class _CreateByDefault(TyperGroup):
    """A first word that is no subcommand (an email) means `create`."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["create", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_CreateByDefault,
    no_args_is_help=True,
    help="API tokens: `token EMAIL` mints one; `token list [EMAIL]`, `token revoke ID`.",
)


@app.command("create")
def create(
    email: Annotated[str, typer.Argument(help="the user the token acts as")],
    name: Annotated[str, typer.Option(help="a label for the token")] = "cli",
    expires_days: Annotated[
        int | None,
        typer.Option(min=1, max=3650, help="lifetime in days (default: RELAYDESK_TOKEN_DAYS, 90)"),
    ] = None,
) -> None:
    """Create an API token (shown once; stored only as a hash)."""
    from relaydesk.auth.service import active_user, create_token
    from relaydesk.db import transaction

    if not name.strip() or len(name) > 128:
        fail("--name: give a label of 1 to 128 characters")
    with opened() as container, transaction(container.sessions) as session:
        user = active_user(session, email)
        if user is None:
            fail(f"no active user with email {email!r}")
        row, secret = create_token(session, user, name.strip(), expires_days or container.settings.token_days)
        expires = row.expires_at.strftime("%Y-%m-%d %H:%M UTC")
        # Only the secret on stdout, so `TOKEN=$(relaydesk token EMAIL)` captures just it.
        console.print(secret, highlight=False, soft_wrap=True)
        err_console.print(f"token {row.id} for {user.email}, expires {expires}", highlight=False)


@app.command("list")
def list_(
    email: Annotated[str | None, typer.Argument(help="only this user's tokens")] = None,
) -> None:
    """List live tokens (never their secrets): id, user, name, created, expires, last used."""
    from relaydesk.auth.service import list_tokens
    from relaydesk.core.errors import UserError

    with opened() as container, container.sessions() as session:
        try:
            rows = list_tokens(session, None, email)
        except UserError as exc:
            fail(str(exc))
    table = Table("id", title="times in UTC")
    for header in ("user", "name", "prefix", "created", "expires", "last used"):
        table.add_column(header, overflow="fold")  # an email is never cut short
    for row in rows:
        table.add_row(
            str(row.id),
            row.email,
            row.name,
            row.prefix,
            _when(row.created_at),
            _when(row.expires_at) + (" (expired)" if row.expired else ""),
            _when(row.last_used_at) if row.last_used_at else "never",
        )
    if rows:
        console.print(table)
    else:
        console.print("no live API tokens" + (f" for {email}" if email else ""))


@app.command("revoke")
def revoke(token_id: Annotated[int, typer.Argument(help="the token's id (see `token list`)")]) -> None:
    """Revoke a token: requests made with it are refused from now on."""
    from relaydesk.auth.service import revoke_token
    from relaydesk.core.errors import UserError
    from relaydesk.db import transaction

    with opened() as container, transaction(container.sessions) as session:
        try:
            info = revoke_token(session, None, token_id)
        except UserError as exc:
            fail(str(exc))
    console.print(f"revoked token {info.id} ({info.name}) of {info.email}", highlight=False)


def _when(moment: Any) -> str:
    return str(moment.strftime("%Y-%m-%d %H:%M"))
