"""The `queijaria` command line: one entry point for the database, the simulator, the loader and reports."""

from __future__ import annotations

from typing import Any

import click
import typer
from typer.core import TyperGroup

from flows.command import daily
from queijaria.dashboards.commands import dashboards_app, preview
from queijaria.db.embedded import EmbeddedDatabaseError, embedded_server
from queijaria.generate import generate
from queijaria.loading.command import load
from queijaria.reporting.shortages import report
from queijaria.reporting.summary import summary


class _OneLineErrors(TyperGroup):
    """Turns a ClickException raised by any command into one `error:` line and its exit code (1).

    Commands and the code under them (e.g. queijaria.db.connection.ConnectionSettingsError, raised for a bad PGPORT)
    can raise one instead of each catching it; typer would otherwise draw it in a usage panel. Mistakes on the
    command line itself (click.UsageError: unknown option, value out of range) keep click's usage message.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError:
            raise
        except click.ClickException as error:
            typer.secho(f"error: {error.format_message()}", fg=typer.colors.RED, err=True)
            raise typer.Exit(error.exit_code) from error


app = typer.Typer(
    cls=_OneLineErrors,
    help="Queijaria PCP: simulate a cheese plant, load it into PostgreSQL and report on it.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="The embedded PostgreSQL server (ignored when PGHOST or DATABASE_URL is set).")
app.add_typer(db_app, name="db")
app.add_typer(dashboards_app, name="dashboards")


def _fail(error: Exception) -> typer.Exit:
    typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
    return typer.Exit(1)


def _run_db_action(action: str) -> None:
    try:
        server = embedded_server()
    except ValueError as error:  # a DATABASE_URL that is not postgresql://
        raise _fail(error) from error
    if not server.settings.is_embedded:
        typer.echo(f"using external PostgreSQL at {server.settings.describe()}; the embedded server is not {action}")
        return
    try:
        typer.echo(getattr(server, action)())
    except EmbeddedDatabaseError as error:
        raise _fail(error) from error


@db_app.command("up")
def db_up() -> None:
    """Start the embedded server (initialising its data directory on first use); safe to call twice."""
    _run_db_action("up")


@db_app.command("down")
def db_down() -> None:
    """Stop the embedded server; safe to call when it is not running."""
    _run_db_action("down")


@db_app.command("reset")
def db_reset() -> None:
    """Stop the embedded server, delete its data directory and start it empty."""
    _run_db_action("reset")


@db_app.command("status")
def db_status() -> None:
    """Say whether the embedded server runs, and where."""
    _run_db_action("status")


@db_app.command("env")
def db_env() -> None:
    """Print `export` lines for the resolved server (DATABASE_URL included), for `eval "$(queijaria db env)"`."""
    from queijaria.db.connection import shell_exports

    try:
        typer.echo("\n".join(shell_exports()))
    except ValueError as error:
        raise _fail(error) from error


app.command("generate")(generate)
app.command("load")(load)
app.command("summary")(summary)
app.command("report")(report)
app.command("preview")(preview)
app.command("daily")(daily)
