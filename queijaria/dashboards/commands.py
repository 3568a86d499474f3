"""The `queijaria preview` and `queijaria dashboards ...` commands: thin wrappers that turn errors into one line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from queijaria import PROJECT_ROOT

# The spec, SQLAlchemy and plotly load inside the commands: `queijaria db env` runs before every make dbt call.
DASHBOARDS_DIR = PROJECT_ROOT / "dashboards"

dashboards_app = typer.Typer(help="Dashboards as code (dashboards/*.yml): Metabase, exposures, the reader role.")


def fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(1)


def preview(
    out: Annotated[Path | None, typer.Option(help="HTML file (default target/preview/dashboards.html)")] = None,
    specs: Annotated[Path, typer.Option(help="folder of the dashboard YAML files")] = DASHBOARDS_DIR,
    card_timeout: Annotated[
        float, typer.Option(min=0.001, help="seconds a card's query may run before it is stopped")
    ] = 30.0,
) -> None:
    """Render every dashboard to one self-contained HTML page (opens with no network).

    The cards' SQL runs read-only, as the role Metabase uses (metabase_reader; MB_READER_PASSWORD off the
    embedded server): see queijaria/dashboards/queries.py."""
    import sqlalchemy.exc

    from queijaria.dashboards.preview import DEFAULT_PREVIEW, PreviewError, build_preview
    from queijaria.dashboards.queries import ReaderUnavailableError, reader_engine
    from queijaria.dashboards.spec import load_dashboards
    from queijaria.db.connection import resolve

    try:
        dashboards = load_dashboards(specs)
        engine = reader_engine(resolve(), timeout_s=card_timeout)
    # DashboardSpecError is a ValueError; so is a PGPORT or DATABASE_URL that names no server.
    except (ValueError, ReaderUnavailableError) as error:
        raise fail(str(error)) from error
    try:
        written = build_preview(engine, dashboards, out or DEFAULT_PREVIEW)
    except PreviewError as error:
        raise fail(str(error)) from error
    except sqlalchemy.exc.SQLAlchemyError as error:
        raise fail(f"cannot read the marts: {' '.join(str(error).split())}") from error
    finally:
        engine.dispose()
    typer.echo(f"dashboards preview written to {written} (open it in a browser; no network needed)")


@dashboards_app.command("exposures")
def exposures(
    check: Annotated[bool, typer.Option("--check", help="only check the file is in step; exit 1 if not")] = False,
    specs: Annotated[Path, typer.Option(help="folder of the dashboard YAML files")] = DASHBOARDS_DIR,
) -> None:
    """Write models/exposures/_dashboards__exposures.yml from the dashboards (dbt lineage ends in them)."""
    from queijaria.dashboards.exposures import ExposuresOutOfStepError, check_exposures, write_exposures
    from queijaria.dashboards.spec import DashboardSpecError, load_dashboards

    try:
        dashboards = load_dashboards(specs)
        if check:
            check_exposures(dashboards)
            typer.echo("dbt exposures are in step with the dashboards")
            return
        typer.echo(f"dbt exposures written to {write_exposures(dashboards)}")
    except (DashboardSpecError, ExposuresOutOfStepError) as error:
        raise fail(str(error)) from error


@dashboards_app.command("reader")
def reader() -> None:
    """Create or update the read-only role Metabase connects as (MB_READER_PASSWORD; see reader.py)."""
    import os

    from queijaria.dashboards.reader import PASSWORD_VARIABLE, READER_ROLE, ReaderSetupError, ensure_reader
    from queijaria.db.connection import resolve

    try:
        settings = resolve()
        # Without MB_READER_PASSWORD an existing role keeps its password: Metabase may be connected with it.
        note = ensure_reader(settings, os.environ.get(PASSWORD_VARIABLE) or None)
    except (ValueError, ReaderSetupError) as error:
        raise fail(str(error)) from error
    typer.echo(f"read-only role {READER_ROLE} can select from the marts of {settings.describe()}; {note}")


@dashboards_app.command("provision")
def provision() -> None:
    """Create or update the dashboards in Metabase (MB_URL, MB_USER, MB_PASSWORD or MB_API_KEY; README)."""
    import os

    from queijaria.dashboards.metabase import Client, MetabaseError, MetabaseSettings, Warehouse, check_settings
    from queijaria.dashboards.metabase import provision as provision_dashboards
    from queijaria.dashboards.reader import READER_ROLE, ReaderSetupError, reader_password
    from queijaria.dashboards.spec import DashboardSpecError, load_dashboards
    from queijaria.db.connection import resolve

    env = os.environ
    settings = MetabaseSettings(
        url=env.get("MB_URL") or "http://localhost:3000",
        user=env.get("MB_USER") or "admin@queijaria.local",
        password=env.get("MB_PASSWORD"),
        api_key=env.get("MB_API_KEY"),
    )
    if not (settings.password or settings.api_key):
        raise fail("set MB_PASSWORD (the Metabase admin's password, chosen at the first run) or MB_API_KEY")
    try:
        check_settings(settings)  # MB_URL and MB_PASSWORD before anything else, and before any request
        dashboards = load_dashboards()
        database = resolve()
        warehouse = Warehouse(
            host=env.get("MB_WAREHOUSE_HOST") or "postgres",
            port=int(env.get("MB_WAREHOUSE_PORT") or 5432),
            dbname=database.dbname,
            user=READER_ROLE,
            password=reader_password(database),
        )
        counts = provision_dashboards(Client(settings), dashboards, warehouse)
    except (DashboardSpecError, ReaderSetupError, MetabaseError, ValueError) as error:
        raise fail(str(error)) from error
    typer.echo(
        f"Metabase at {settings.url}: {counts['dashboards']} dashboards, {counts['cards']} cards, "
        f"{counts['archived']} archived, {counts['writes']} changes"
    )
