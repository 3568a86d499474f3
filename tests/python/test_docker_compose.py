"""docker-compose.yml cannot run here (no Docker engine), so what can be checked statically is checked."""

from __future__ import annotations

import re

import pytest
import yaml

from queijaria import PROJECT_ROOT

COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
README = (PROJECT_ROOT / "README.md").read_text()


def readme_exports() -> dict[str, str]:
    """The variables the README tells Docker users to export."""
    section = README.split("## External PostgreSQL", 1)[1]
    match = re.search(r"^export (PG.*)$", section, flags=re.MULTILINE)
    assert match, "the README's external PostgreSQL section must show the export line"
    return dict(pair.split("=", 1) for pair in match.group(1).split())


@pytest.mark.parametrize("service", ["postgres", "metabase"])
def test_images_are_pinned(service: str) -> None:
    image = SERVICES[service]["image"]
    tag = image.partition(":")[2]
    assert tag and tag != "latest" and re.search(r"\d+\.\d+", tag), f"{service} image {image!r} is not pinned"


def test_postgres_is_17() -> None:
    assert re.match(r"postgres:17\.", SERVICES["postgres"]["image"])


@pytest.mark.parametrize("service", ["postgres", "metabase"])
def test_services_have_healthchecks(service: str) -> None:
    healthcheck = SERVICES[service]["healthcheck"]
    assert healthcheck["test"] and healthcheck["interval"] and healthcheck["retries"] > 0


def test_postgres_data_lives_in_a_named_volume() -> None:
    volume_names = set(COMPOSE["volumes"])
    mounted = {entry.split(":", 1)[0] for entry in SERVICES["postgres"]["volumes"]}
    assert volume_names & mounted, "the PostgreSQL data directory must be a named volume"


def test_metabase_waits_for_a_healthy_postgres_and_keeps_its_state_there() -> None:
    metabase = SERVICES["metabase"]
    assert metabase["depends_on"]["postgres"]["condition"] == "service_healthy"
    env = metabase["environment"]
    assert env["MB_DB_TYPE"] == "postgres"
    assert env["MB_DB_HOST"] == "postgres"
    assert env["MB_DB_USER"] == SERVICES["postgres"]["environment"]["POSTGRES_USER"]
    assert env["MB_DB_PASS"] == SERVICES["postgres"]["environment"]["POSTGRES_PASSWORD"]
    init_sql = "".join(path.read_text() for path in (PROJECT_ROOT / "docker/postgres/initdb").glob("*.sql"))
    assert f"create database {env['MB_DB_DBNAME']}" in init_sql
    init_mount = [entry for entry in SERVICES["postgres"]["volumes"] if "docker-entrypoint-initdb.d" in entry]
    assert init_mount and init_mount[0].startswith("./docker/postgres/initdb")


def test_metabase_sample_content_and_analytics_are_off() -> None:
    env = SERVICES["metabase"]["environment"]
    assert env["MB_LOAD_SAMPLE_CONTENT"] == "false"
    assert env["MB_ANONYMOUS_TRACKING_ENABLED"] == "false"


def test_readme_exports_match_the_compose_postgres() -> None:
    exports = readme_exports()
    postgres = SERVICES["postgres"]
    env = postgres["environment"]
    published = {mapping.split(":")[1]: mapping.split(":")[0] for mapping in postgres["ports"]}
    assert exports["PGHOST"] in {"localhost", "127.0.0.1"}
    assert exports["PGPORT"] == published["5432"]
    assert exports["PGUSER"] == env["POSTGRES_USER"]
    assert exports["PGPASSWORD"] == env["POSTGRES_PASSWORD"]
    assert exports["PGDATABASE"] == env["POSTGRES_DB"]
    assert "docker compose up -d" in README
