"""A PGPORT or DATABASE_URL that names no server: every command that reaches the database ends in one `error:` line
and exit code 1, without a traceback and without touching anything (queijaria/cli.py turns the settings error,
a click.ClickException, into that line for all of them)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from queijaria import PROJECT_ROOT
from queijaria.generate import generate

QUEIJARIA = str(Path(sys.executable).with_name("queijaria"))
# Never `db up`, `db down` or `db reset`: should the settings ever pass, they would act on the shared server.
COMMANDS = [
    ("summary",),
    ("summary", "--json"),
    ("report", "--out", "{tmp}/report.csv"),
    ("load", "--out", "{batches}"),
    ("preview", "--out", "{tmp}/preview.html"),
    ("db", "status"),
    ("db", "env"),
    ("dashboards", "reader"),
]


@pytest.fixture(scope="module")
def batches(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One generated day, so that `load` gets as far as the database."""
    out = tmp_path_factory.mktemp("batches")
    cli = typer.Typer()
    cli.command()(generate)
    result = CliRunner().invoke(
        cli, ["--quiet", "--out", str(out), "--scenario", "baseline", "--days", "1", "--iot-interval", "60"]
    )
    assert result.exit_code == 0, result.output
    return out


def run(args: tuple[str, ...], tmp_path: Path, batches: Path, **environ: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG") and key != "DATABASE_URL"}
    arguments = [arg.format(tmp=tmp_path, batches=batches) for arg in args]
    return subprocess.run(
        [QUEIJARIA, *arguments], cwd=PROJECT_ROOT, env={**env, **environ}, capture_output=True, text=True, check=False
    )


def assert_one_error_line(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr == f"error: {message}\n", result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_every_command_refuses_a_pgport_that_is_no_port(tmp_path: Path, batches: Path, args: tuple[str, ...]) -> None:
    result = run(args, tmp_path, batches, PGPORT="abc")
    assert_one_error_line(result, "PGPORT must be a port number from 1 to 65535, got 'abc'")
    assert not any(tmp_path.iterdir())


def test_a_pgport_out_of_range_is_refused(tmp_path: Path, batches: Path) -> None:
    result = run(("summary",), tmp_path, batches, PGPORT="70000")
    assert_one_error_line(result, "PGPORT must be a port number from 1 to 65535, got '70000'")


@pytest.mark.parametrize("args", [("summary",), ("report", "--out", "{tmp}/report.csv"), ("db", "env")], ids=" ".join)
def test_a_database_url_port_that_is_no_port_is_refused_without_its_password(
    tmp_path: Path, batches: Path, args: tuple[str, ...]
) -> None:
    result = run(args, tmp_path, batches, DATABASE_URL="postgresql://ana:s3cr3t@db.example:5x/pcp")
    assert_one_error_line(result, "the port of DATABASE_URL must be a port number from 1 to 65535, got '5x'")
    assert not any(tmp_path.iterdir())
