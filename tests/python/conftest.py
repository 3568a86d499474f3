"""Shared fixtures: every test session gets a fresh database on the real server (embedded by default)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support import DbtRunner, create_database, drop_database, make_dbt_runner

from generators.connection import ConnectionSettings, resolve

__all__ = ["DbtRunner", "create_database", "drop_database", "make_dbt_runner"]


@pytest.fixture(scope="session")
def database() -> Iterator[ConnectionSettings]:
    """A fresh, empty database for the whole session, dropped at the end."""
    settings = create_database(resolve(), "queijaria_test")
    yield settings
    drop_database(settings)


@pytest.fixture(scope="session")
def dbt(database: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory) -> DbtRunner:
    """Runs dbt against the session database, with a target folder of its own."""
    return make_dbt_runner(database, tmp_path_factory.mktemp("dbt_target"))
