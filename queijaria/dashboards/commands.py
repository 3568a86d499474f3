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
) -> None:
    """Render every dashboard to one self-contained HTML page (opens with no network)."""
    import sqlalchemy.exc

    from queijaria.dashboards.preview import DEFAULT_PREVIEW, build_preview
    from queijaria.dashboards.queries import engine_for
    from queijaria.dashboards.spec import DashboardSpecError, load_dashboards

    try:
        dashboards = load_dashboards(specs)
        written = build_preview(engine_for(), dashboards, out or DEFAULT_PREVIEW)
    except DashboardSpecError as error:
        raise fail(str(error)) from error
    except sqlalchemy.exc.OperationalError as error:
        reason = " ".join(str(error.orig).split())
        raise fail(f"cannot read the marts: {reason} (run `make db-up` and `make build` first)") from error
    except sqlalchemy.exc.ProgrammingError as error:
        reason = str(error.orig).splitlines()[0]
        raise fail(f"a card's query failed: {reason} (run `make build` so the marts exist)") from error
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
