"""`queijaria preview` runs dashboard SQL as untrusted input: one SELECT of the marts, in a read-only transaction
with a timeout, as the read-only role Metabase uses; every mistake ends in one `error:` line naming the file and
the card, and a failed run leaves no file behind. Runs on a small hand-made marts schema in a database of its own.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from support import create_database, drop_database, preview_figures

from queijaria import PROJECT_ROOT
from queijaria.dashboards.queries import (
    CardQueryError,
    ReaderUnavailableError,
    engine_for,
    read_only_query,
    reader_settings,
    run_card,
)
from queijaria.dashboards.reader import READER_ROLE
from queijaria.dashboards.spec import DashboardSpecError, load_dashboard
from queijaria.db.connection import ConnectionSettings, connect, resolve

QUEIJARIA = str(Path(sys.executable).with_name("queijaria"))
MARTS_SQL = """
create schema marts;
create schema raw;
create table marts.dim_scenarios (scenario_id text, scenario_name text, is_baseline boolean);
insert into marts.dim_scenarios values ('baseline', 'Baseline', true);
create table marts.dim_lines (line_id text, line_name text);
insert into marts.dim_lines values ('L1', 'Line 1'), ('L2', 'Line 2');
create table marts.fct_output (line_id text, output_date date, good_kg numeric);
insert into marts.fct_output values ('L1', '2025-03-01', 100.5), ('L2', '2025-03-01', 80), ('L1', '2025-03-02', 90);
create table raw.stock_lots (lot_id text, quantity numeric);
insert into raw.stock_lots values ('LOT-1', 100), ('LOT-2', 250);
"""
STOCK = (("LOT-1", 100), ("LOT-2", 250))
GOOD_SQL = "select sum(good_kg) as good_kg from marts.fct_output where true [[and output_date >= {{start_date}}]]"
ATTACK_SQL = (
    "select count(*) as good_kg from marts.fct_output; update raw.stock_lots set quantity = 0; commit; "
    "select 1 as good_kg from marts.fct_output"
)


@pytest.fixture(scope="module")
def marts_db() -> Iterator[ConnectionSettings]:
    settings = create_database(resolve(), "preview_security")
    conn = connect(settings)
    try:
        with conn, conn.cursor() as cursor:
            cursor.execute(MARTS_SQL)
    finally:
        conn.close()
    yield settings
    drop_database(settings)


@pytest.fixture(scope="module")
def reader(marts_db: ConnectionSettings) -> ConnectionSettings:
    """The read-only role on this database, set up as the preview sets it up."""
    try:
        return reader_settings(marts_db)
    except ReaderUnavailableError as error:
        pytest.skip(f"no read-only role on this server: {error}")


def stock(settings: ConnectionSettings) -> tuple[tuple[str, int], ...]:
    conn = connect(settings)
    try:
        with conn, conn.cursor() as cursor:
            cursor.execute("select lot_id, quantity::int from raw.stock_lots order by 1")
            return tuple(cursor.fetchall())
    finally:
        conn.close()


def dashboard_file(
    folder: Path, sql: str, *, title: str = "Good kg", value: str = "good_kg", default: str = "2025-03-01"
) -> Path:
    """One dashboard with one number card; JSON strings are YAML strings, so any SQL text goes in as is."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "probe.yml"
    wired = "{{start_date}}" in sql
    path.write_text(
        "name: Probe\n"
        + (
            f"filters: [{{name: start_date, type: date, label: From, default: {json.dumps(default)}}}]\n"
            if wired
            else ""
        )
        + "cards:\n"
        f"  - title: {json.dumps(title)}\n"
        "    visualization: number\n"
        f"    value: {value}\n"
        "    position: {col: 0, row: 0, width: 6, height: 3}\n"
        f"    sql: {json.dumps(sql)}\n"
    )
    return path


def run_preview(
    settings: ConnectionSettings, specs: Path, out: Path, *args: str, **env_changes: str | None
) -> subprocess.CompletedProcess[str]:
    """`queijaria preview` of the dashboards in specs (a folder, or a file's folder) as settings' user."""
    specs = specs.parent if specs.is_file() else specs
    env = {**os.environ, **settings.as_env()}
    env.pop("DATABASE_URL", None)
    if settings.is_embedded:
        env.pop("PGHOST")  # the embedded server, as `make preview` reaches it
    env.update({name: value for name, value in env_changes.items() if value is not None})
    for name in [name for name, value in env_changes.items() if value is None]:
        env.pop(name, None)
    return subprocess.run(
        [QUEIJARIA, "preview", "--specs", str(specs), "--out", str(out), *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def assert_one_error(result: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


def test_a_good_card_is_drawn_as_the_reader_role(
    marts_db: ConnectionSettings, reader: ConnectionSettings, tmp_path: Path
) -> None:
    out = tmp_path / "page.html"
    result = run_preview(marts_db, dashboard_file(tmp_path / "specs", GOOD_SQL), out)
    assert result.returncode == 0, result.stderr
    assert f"written to {out}" in result.stdout
    (variant,) = preview_figures(out)["probe/Good kg"].values()
    assert variant["rows"] == 1
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".")] == []


def test_the_multi_statement_attack_changes_nothing_and_ends_in_one_error(
    marts_db: ConnectionSettings, reader: ConnectionSettings, tmp_path: Path
) -> None:
    out = tmp_path / "page.html"
    result = run_preview(marts_db, dashboard_file(tmp_path / "specs", ATTACK_SQL, title="Attack"), out)
    assert_one_error(result, "probe.yml", "(Attack)", "has 4 statements", "exactly one SELECT")
    assert stock(marts_db) == STOCK
    assert not out.exists()


@pytest.mark.parametrize(
    "sql",
    [
        "select 1; commit; update raw.stock_lots set quantity = 0",
        "select 1; commit; set session characteristics as transaction read write; "
        "update raw.stock_lots set quantity = 0",
        "select set_config('transaction_read_only', 'off', true)",
    ],
)
def test_the_transaction_and_the_role_refuse_what_the_static_check_would_miss(
    marts_db: ConnectionSettings, reader: ConnectionSettings, sql: str
) -> None:
    """read_only_query runs text unchecked: each lower layer on its own still refuses to write."""
    for settings, refusal in (
        (marts_db, "read-only transaction|read-write mode"),
        (reader, "permission denied|read-write mode"),
    ):
        engine = engine_for(settings)
        try:
            with pytest.raises(CardQueryError, match=refusal):
                read_only_query(engine, sql)
        finally:
            engine.dispose()
    assert stock(marts_db) == STOCK


def test_cards_run_read_only_as_the_reader_role_which_sees_the_marts_only(reader: ConnectionSettings) -> None:
    engine = engine_for(reader)
    try:
        who = read_only_query(engine, "select current_user as who, current_setting('transaction_read_only') as ro")
        assert who.to_dict("records") == [{"who": READER_ROLE, "ro": "on"}]
        assert read_only_query(engine, "select count(*) as n from marts.fct_output")["n"].item() == 3
        with pytest.raises(CardQueryError, match="permission denied for schema raw"):
            read_only_query(engine, "select count(*) from raw.stock_lots")
    finally:
        engine.dispose()


def test_a_runaway_card_is_stopped_by_the_timeout(
    marts_db: ConnectionSettings, reader: ConnectionSettings, tmp_path: Path
) -> None:
    sql = "select count(*) as good_kg from marts.fct_output, generate_series(1, 2000000000)"
    result = run_preview(
        marts_db, dashboard_file(tmp_path / "specs", sql, title="Runaway"), tmp_path / "p.html", "--card-timeout", "0.5"
    )
    assert_one_error(result, "probe.yml", "(Runaway)", "statement timeout")


@pytest.mark.parametrize(
    ("sql", "value", "message"),
    [
        ("select sum(nope) as good_kg from marts.fct_output", "good_kg", 'column "nope" does not exist'),
        ("select sum(good_kg) / 0 as good_kg from marts.fct_output", "good_kg", "division by zero"),
        ("select sum(good_kg) as other from marts.fct_output", "good_kg", "the result has no column 'good_kg'"),
        ("select line_id as good_kg from marts.fct_output limit 1", "good_kg", "cannot draw the number card"),
    ],
    ids=["unknown column", "division by zero", "missing value column", "value not a number"],
)
def test_a_failing_card_names_the_file_and_the_card(
    marts_db: ConnectionSettings, reader: ConnectionSettings, tmp_path: Path, sql: str, value: str, message: str
) -> None:
    out = tmp_path / "page.html"
    out.write_text("the previous page")
    result = run_preview(marts_db, dashboard_file(tmp_path / "specs", sql, title="Broken card", value=value), out)
    assert_one_error(result, "probe.yml", "(Broken card)", message)
    # Nothing half-written: the previous page stays, and no partial file is left beside it.
    assert out.read_text() == "the previous page"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["page.html", "specs"]


def test_a_bad_date_default_names_the_file_and_the_card(marts_db: ConnectionSettings, tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    dashboard_file(specs, GOOD_SQL, title="Dated card", default="2025-13-01")
    result = run_preview(marts_db, specs, tmp_path / "page.html")
    assert_one_error(result, "probe.yml", "(Dated card)", "'2025-13-01', which is not a date")


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("{tmp}", "is a folder; give the HTML file to write"),
        ("/proc/dashboards.html", "cannot write /proc/dashboards.html"),
        ("{tmp}/specs/probe.yml/page.html", "probe.yml is a file, not a folder"),
        ("/dev/null", "is not a regular file"),
    ],
    ids=["folder", "proc", "under a file", "device"],
)
def test_an_unwritable_out_is_one_message_and_writes_nothing(
    marts_db: ConnectionSettings, reader: ConnectionSettings, tmp_path: Path, out: str, message: str
) -> None:
    specs = tmp_path / "specs"
    dashboard_file(specs, GOOD_SQL)
    before = sorted(path.name for path in tmp_path.rglob("*"))
    result = run_preview(marts_db, specs, Path(out.format(tmp=tmp_path)), "--card-timeout", "5")
    assert_one_error(result, message)
    assert sorted(path.name for path in tmp_path.rglob("*")) == before


def test_a_bad_pgport_is_one_message(marts_db: ConnectionSettings, tmp_path: Path) -> None:
    result = run_preview(marts_db, dashboard_file(tmp_path / "specs", GOOD_SQL), tmp_path / "p.html", PGPORT="abc")
    assert_one_error(result, "PGPORT")


def test_the_reader_role_with_a_wrong_password_is_one_message(
    marts_db: ConnectionSettings, reader: ConnectionSettings, tmp_path: Path
) -> None:
    specs = dashboard_file(tmp_path / "specs", GOOD_SQL)
    result = run_preview(marts_db, specs, tmp_path / "p.html", PGUSER=READER_ROLE, PGPASSWORD="not-the-password")
    assert_one_error(result, f"cannot connect to postgresql://{READER_ROLE}@", "password authentication failed")


def test_preview_as_the_reader_role_works(
    marts_db: ConnectionSettings, reader: ConnectionSettings, tmp_path: Path
) -> None:
    out = tmp_path / "p.html"
    result = run_preview(
        marts_db, dashboard_file(tmp_path / "specs", GOOD_SQL), out, PGUSER=READER_ROLE, PGPASSWORD=reader.password
    )
    assert result.returncode == 0, result.stderr
    assert out.is_file()


def test_another_server_without_the_reader_password_says_what_to_set(tmp_path: Path) -> None:
    elsewhere = replace(resolve(), host="db.invalid", is_embedded=False)
    with pytest.raises(ReaderUnavailableError, match="set MB_READER_PASSWORD to the password of the read-only role"):
        reader_settings(elsewhere, environ={})
    assert reader_settings(elsewhere, environ={"MB_READER_PASSWORD": "s3cret"}).user == READER_ROLE


# Each reads past the marts, writes, or hides a second statement; the static check refuses it at load time.
BYPASSES = {
    "comma join": ("select count(*) as good_kg from marts.fct_output, raw.stock_lots", "reads raw.stock_lots"),
    "quoted names": ('select count(*) as good_kg from marts.fct_output, "raw"."stock_lots"', "reads raw.stock_lots"),
    "spaced dot": ("select count(*) as good_kg from marts.fct_output, raw . stock_lots", "reads raw.stock_lots"),
    "comment in the name": (
        "select 1 as good_kg from marts.fct_output, raw/**/./**/stock_lots",
        "reads raw.stock_lots",
    ),
    "lateral": (
        "select 1 as good_kg from marts.fct_output cross join lateral (select * from raw.stock_lots) as s",
        "reads raw.stock_lots",
    ),
    "select-list subquery": (
        "select (select sum(quantity) from raw.stock_lots) as good_kg from marts.fct_output",
        "reads raw.stock_lots",
    ),
    "parenthesised join": (
        "select 1 as good_kg from (marts.fct_output cross join raw.stock_lots)",
        "reads raw.stock_lots",
    ),
    "union in brackets": (
        "select 1 as good_kg from marts.fct_output where 1 in ((select 1) union select 2 from raw.stock_lots)",
        "reads raw.stock_lots",
    ),
    "table command": (
        "select 1 as good_kg from marts.fct_output join (table raw.stock_lots) as t on true",
        "reads raw.stock_lots",
    ),
    "search path": ("select count(*) as good_kg from stock_lots", "reads stock_lots"),
    "server file": ("select pg_read_file('/etc/passwd') as good_kg from marts.fct_output", "calls pg_read_file()"),
    "query in a string": (
        "select query_to_xml('select * from raw.stock_lots', true, false, '') as good_kg from marts.fct_output",
        "calls query_to_xml()",
    ),
    "schema function": ("select raw.f() as good_kg from marts.fct_output", "calls raw.f()"),
    "backslash quote": (
        "select '\\'; update raw.stock_lots set quantity = 0; --' as good_kg from marts.fct_output",
        "has 2 statements",
    ),
    "writing cte": (
        "with gone as (delete from raw.stock_lots returning 1) select 1 as good_kg from marts.fct_output",
        "uses DELETE",
    ),
    "select into": ("select 1 as good_kg into marts.copy from marts.fct_output", "uses INTO"),
    "not a select": ("table marts.fct_output", "starts with 'table'"),
    "comment opened by a dropped clause": (
        "select 1 as good_kg from marts.fct_output /[[{{start_date}}]]* '*/; update raw.stock_lots set quantity = 0; "
        "select 1 as good_kg from marts.fct_output -- '",
        "has 3 statements",
    ),
    "marker inside a string": (
        "select 1 as good_kg from marts.fct_output where '[[' = ']]' [[and output_date >= {{start_date}}]]",
        "marker inside a string",
    ),
}


@pytest.mark.parametrize(("sql", "message"), BYPASSES.values(), ids=BYPASSES.keys())
def test_the_static_check_refuses_sql_that_reaches_past_the_marts(tmp_path: Path, sql: str, message: str) -> None:
    path = dashboard_file(tmp_path, sql)
    with pytest.raises(DashboardSpecError) as raised:
        load_dashboard(path)
    assert "probe.yml" in str(raised.value) and "(Good kg)" in str(raised.value)
    assert message in str(raised.value)


ALLOWED = {
    "semicolons in strings and comments": (
        "select 1 as good_kg from marts.fct_output /* ; */ where 'a;b' <> $x$;$x$ -- ;\n"
        "[[and output_date >= {{start_date}}]]"
    ),
    "extract, substring, trim, distinct from": (
        "select extract(year from output_date) as good_kg, substring(line_id from 1 for 1), trim(both from line_id) "
        "from marts.fct_output where line_id is distinct from 'x' [[and output_date >= {{start_date}}]];"
    ),
    "cte and lateral function": (
        "with recent as (select * from marts.fct_output where true [[and output_date >= {{start_date}}]]) "
        "select count(*) as good_kg from recent, lateral generate_series(1, 2) as g"
    ),
}


@pytest.mark.parametrize("sql", ALLOWED.values(), ids=ALLOWED.keys())
def test_the_static_check_lets_ordinary_sql_through(tmp_path: Path, sql: str) -> None:
    assert load_dashboard(dashboard_file(tmp_path, sql)).marts == ("fct_output",)


def test_a_filter_narrows_a_card_run_as_the_reader(reader: ConnectionSettings, tmp_path: Path) -> None:
    card = load_dashboard(dashboard_file(tmp_path, GOOD_SQL)).cards[0]
    engine = engine_for(reader)
    try:
        everything = run_card(engine, card, {})["good_kg"].item()
        later = run_card(engine, card, {"start_date": dt.date(2025, 3, 2)})["good_kg"].item()
    finally:
        engine.dispose()
    assert (everything, later) == (270.5, 90.0)


def test_run_card_checks_the_sql_again_once_filled_in(marts_db: ConnectionSettings, tmp_path: Path) -> None:
    """A card that skipped load_dashboard's check: the SQL that would run (clause dropped) is checked itself."""
    loaded = load_dashboard(dashboard_file(tmp_path, GOOD_SQL)).cards[0]
    card = replace(loaded, sql=BYPASSES["comment opened by a dropped clause"][0])
    engine = engine_for(marts_db)
    try:
        with pytest.raises(CardQueryError, match="has 3 statements"):
            run_card(engine, card, {})
    finally:
        engine.dispose()
    assert stock(marts_db) == STOCK
