"""dbt run inside the test process, with the project parsed once per worker instead of once per call.

A `dbt` command costs about 2.5 s to start and 4 s (partial) to 10 s (full) to parse this project before it does
any work, and the suite calls it about a hundred times, mostly on small data: that was most of `make test`'s time.
Here each worker imports dbt once and hands every call a parsed manifest (`dbtRunner(manifest=...)`, dbt's API for
reusing a parse), so a call costs what its models and tests cost.

A manifest names its database in every relation (PostgreSQL cannot reach across databases, and dbt would rather
parse again than reuse a manifest of another database). The tests use many databases of one project, so a parse is
kept per project state and vars, and each database gets a copy in which that database's name replaces the one it
was parsed with. A relation the copy missed would stop the call loudly (dbt-postgres refuses cross-database
references), never read another database's data.

A parse is reused only while the project's files (paths, sizes, modification times), the target schema and the
`--vars` stay the same; anything else parses again.
"""

from __future__ import annotations

import os
import subprocess
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dbt.cli.main import dbtRunner
from dbt.contracts.graph.manifest import Manifest
from dbt_common.events.base_types import EventMsg

from queijaria import PROJECT_ROOT
from queijaria.db.connection import ConnectionSettings

# dbt's own files of a project: what a parse reads (tests/python, the suite itself, is not dbt's).
PROJECT_FOLDERS = ("models", "macros", "seeds", "tests", "analyses", "snapshots")
PROJECT_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".md", ".py"}
# Commands that run on a parsed project; others (debug, deps, clean) parse nothing.
MANIFEST_COMMANDS = {"build", "run", "test", "seed", "compile", "show", "ls", "list", "docs", "run-operation"}
# Enough for the databases and vars one test module uses at a time; each is about as large as the parse.
KEPT_COPIES = 4
KEPT_PARSES = 3
# What dbt prints at its default log level (its console shows info, warnings and errors).
SHOWN_LEVELS = {"info", "warn", "error"}

_parses: OrderedDict[tuple, tuple[str, Manifest]] = OrderedDict()
_copies: OrderedDict[tuple, Manifest] = OrderedDict()


def project_state(project_dir: Path) -> tuple:
    """Every dbt file of the project with its size and modification time: a change in any parses again.

    A seed's CSV counts by its path alone: dbt reads a seed's rows when it loads it, not when it parses (the parse
    keeps only a checksum, for state comparison), so a test may change a seed's rows and build on the same parse."""
    files = [project_dir / "dbt_project.yml"]
    for folder in PROJECT_FOLDERS:
        root = project_dir / folder
        files.extend(
            path
            for path in root.rglob("*")
            if path.suffix in PROJECT_SUFFIXES and "python" not in path.relative_to(root).parts and path.is_file()
        )
    seeds = project_dir / "seeds"

    def state(path: Path) -> tuple:
        if path.suffix == ".csv" and path.is_relative_to(seeds):
            return (str(path),)
        stat = path.stat()
        return (str(path), stat.st_size, stat.st_mtime_ns)

    return tuple(sorted(state(path) for path in files))


def vars_argument(args: tuple[str, ...]) -> str | None:
    for position, arg in enumerate(args):
        if arg == "--vars":
            return args[position + 1]
        if arg.startswith("--vars="):
            return arg.removeprefix("--vars=")
    return None


def renamed_database(manifest: Manifest, parsed_for: str, database: str) -> Manifest:
    """A copy of the parse whose relations live in `database`: every node's, source's and unit test's database,
    and the quoted database of each rendered relation name."""
    renamed = manifest.deepcopy()
    quoted_from, quoted_to = f'"{parsed_for}".', f'"{database}".'
    collections = (renamed.nodes, renamed.sources, renamed.unit_tests, renamed.functions, renamed.disabled)
    for collection in collections:
        for entry in collection.values():
            for resource in entry if isinstance(entry, list) else (entry,):
                if getattr(resource, "database", None) == parsed_for:
                    resource.database = database
                relation_name = getattr(resource, "relation_name", None)
                if relation_name and relation_name.startswith(quoted_from):
                    resource.relation_name = quoted_to + relation_name.removeprefix(quoted_from)
    renamed.build_flat_graph()
    return renamed


@contextmanager
def environment(values: dict[str, str], cwd: Path) -> Iterator[None]:
    """The variables profiles.yml reads, and the working folder, for the length of one call."""
    saved_environ, saved_cwd = dict(os.environ), Path.cwd()
    os.environ.update(values)
    os.environ.pop("DATABASE_URL", None)
    os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_environ)


def invoke(
    settings: ConnectionSettings, target_path: Path, project_dir: Path, args: tuple[str, ...]
) -> subprocess.CompletedProcess[str]:
    """`dbt <args>` against the settings' database, as the command line would run it: exit code 0 (success),
    1 (a model or test failed) or 2 (dbt stopped), and what dbt would have printed."""
    printed: list[str] = []

    def keep(event: EventMsg) -> None:
        if event.info.level in SHOWN_LEVELS:
            printed.append(event.info.msg)

    # A quiet console and no log file: what dbt shows is kept in `printed` (a stray log goes beside the target).
    common = [
        "--profiles-dir", str(PROJECT_ROOT), "--project-dir", str(project_dir), "--target-path", str(target_path),
        "--log-path", str(target_path), "--log-level", "none", "--log-level-file", "none",
    ]  # fmt: skip
    command = [*args, *common]
    with environment(settings.as_env(), project_dir):
        manifest = _manifest(settings, target_path, project_dir, args, common) if args[0] in MANIFEST_COMMANDS else None
        result = dbtRunner(manifest=manifest, callbacks=[keep]).invoke(command)
    stdout = "\n".join(printed) + "\n"
    stderr = ""
    if result.exception is not None:
        stderr = f"{type(result.exception).__name__}: {result.exception}\n"
    returncode = 0 if result.success else (1 if result.exception is None else 2)
    return subprocess.CompletedProcess(["dbt", *args], returncode, stdout + stderr, stderr)


def _manifest(
    settings: ConnectionSettings, target_path: Path, project_dir: Path, args: tuple[str, ...], common: list[str]
) -> Manifest | None:
    vars_given = vars_argument(args)
    # Of the profile, only the database and schema reach the parsed project (it reads target.schema, never the
    # host, port or user): one parse serves every server.
    parse_key = (str(project_dir), project_state(project_dir), os.environ.get("DBT_SCHEMA"), vars_given)
    copy_key = (*parse_key, settings.dbname)
    if copy_key in _copies:
        _copies.move_to_end(copy_key)
        return _copies[copy_key]
    if parse_key not in _parses:
        parsed = dbtRunner().invoke(["parse", *common, *(("--vars", vars_given) if vars_given else ())])
        if not parsed.success:
            return None  # the call itself parses and reports the error as dbt would
        _keep(_parses, parse_key, (settings.dbname, parsed.result), KEPT_PARSES)
    _parses.move_to_end(parse_key)
    parsed_for, manifest = _parses[parse_key]
    return _keep(_copies, copy_key, renamed_database(manifest, parsed_for, settings.dbname), KEPT_COPIES)


def _keep(kept: OrderedDict, key: tuple, value, limit: int):
    kept[key] = value
    while len(kept) > limit:
        kept.popitem(last=False)
    return value
