"""Helpers shared by the test modules: fresh databases on the real server and a dbt runner bound to one."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from queijaria import PROJECT_ROOT
from queijaria.db.connection import ConnectionSettings, drop_database, resolve
from queijaria.db.connection import create_scratch_database as create_database
from queijaria.db.embedded import EmbeddedServer

__all__ = [
    "BuiltPipeline",
    "DbtRunner",
    "create_database",
    "drop_database",
    "free_port",
    "make_dbt_runner",
    "scratch_embedded_server",
]

DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))

DbtRunner = Callable[..., subprocess.CompletedProcess[str]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def scratch_embedded_server(folder: Path, **environ: str) -> EmbeddedServer:
    """An embedded server of its own (not started): data in `folder`, a free port, PG* variables from environ."""
    return EmbeddedServer(pgdata=folder / "pgdata", settings=resolve({"PGPORT": str(free_port()), **environ}))


def make_dbt_runner(settings: ConnectionSettings, target_path: Path, project_dir: Path = PROJECT_ROOT) -> DbtRunner:
    def run(
        *args: str, check: bool = True, extra_env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, **settings.as_env(), "DBT_TARGET_PATH": str(target_path), **(extra_env or {})}
        env.pop("DATABASE_URL", None)
        result = subprocess.run(
            [DBT_EXECUTABLE, *args, "--profiles-dir", str(PROJECT_ROOT), "--project-dir", str(project_dir)],
            cwd=project_dir,
            env=env,
            capture_output=True,
            text=True,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}")
        return result

    return run


@dataclass(frozen=True)
class BuiltPipeline:
    """Every scenario generated, loaded and built with dbt into the session database."""

    settings: ConnectionSettings
    dbt: DbtRunner
    data_dir: Path
    build_output: str

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, **self.settings.as_env()}
        env.pop("DATABASE_URL", None)
        return subprocess.run(
            [str(Path(sys.executable).with_name("queijaria")), *args],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
