"""Helpers shared by the test modules: fresh databases on the real server and a dbt runner bound to one."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import psycopg2

from generators import PROJECT_ROOT
from generators.connection import ConnectionSettings, connect

DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))

DbtRunner = Callable[..., subprocess.CompletedProcess[str]]


def _admin_connection(settings: ConnectionSettings) -> psycopg2.extensions.connection:
    conn = connect(settings, dbname="postgres")
    conn.autocommit = True
    return conn


def create_database(settings: ConnectionSettings, prefix: str) -> ConnectionSettings:
    fresh = replace(settings, dbname=f"{prefix}_{uuid.uuid4().hex[:8]}")
    conn = _admin_connection(settings)
    with conn.cursor() as cursor:
        cursor.execute(f'create database "{fresh.dbname}"')
    conn.close()
    return fresh


def drop_database(settings: ConnectionSettings) -> None:
    conn = _admin_connection(settings)
    with conn.cursor() as cursor:
        cursor.execute(f'drop database if exists "{settings.dbname}" with (force)')
    conn.close()


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
