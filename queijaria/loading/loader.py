"""Plan and run a load: every batch of the chosen scenarios, in ONE transaction (all or nothing).

Per scenario the loader compares the chain of batches on disk with what raw.load_audit says is loaded:
- same batches, same checksums: nothing to do (a second identical load changes nothing, not even loaded_at);
- the loaded chain is a prefix of the disk chain: APPEND the new batches;
- anything else: REPLACE the scenario from its fresh batch, then append the batches that continue it.

Replace, per dataset: COPY into a new table created in this transaction (no WAL with wal_level=minimal, no
index to maintain row by row), with the NOT NULL / CHECK constraints and the scenario pinned; check the seed keys
in one query; build the primary key in bulk; then swap it in for the scenario's partition (drop old, attach new).
Append, per dataset: COPY into a temporary table with the same checks and key, then insert into the partition
(production orders: upsert on the key, as a later batch restates orders that changed).
When PostgreSQL refuses a file, the transaction goes back to a savepoint, the diagnosis names file, line and column,
and the whole load is rolled back.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg2
from psycopg2 import sql
from psycopg2.extensions import connection as pg_connection
from psycopg2.extensions import cursor as pg_cursor

from queijaria import PROJECT_ROOT
from queijaria.datasets import DATASETS, Dataset
from queijaria.db.connection import ConnectionSettings, connect
from queijaria.loading import audit, diagnosis, manifest
from queijaria.loading.errors import LoadError
from queijaria.loading.raw_schema import (
    RAW_SCHEMA,
    ensure_raw_tables,
    load_table_sql,
    partition_name,
    primary_key_sql,
    unknown_key_sql,
)
from queijaria.loading.reference_keys import SEEDS_DIR, dataset_reference_keys, seed_keys
from queijaria.loading.streaming import copy_csv

DEFAULT_OUT = PROJECT_ROOT / "data" / "generated"
# Datasets whose later batches may restate rows of earlier ones (same key): appended by upsert.
RESTATED_DATASETS = frozenset({"production_orders"})
LOCK_KEY = 0x51756A6C  # pg_advisory_xact_lock: one load at a time per database
# With wal_level=minimal, a table created in the transaction is made durable at commit by fsyncing its files or,
# below this size, by writing it to the WAL; the WAL write costs a fifth of the fsyncs for a batch's tables.
WAL_SKIP_THRESHOLD = "64MB"


class _UnknownKeyError(Exception):
    """A loaded row references a key its seed does not have (diagnosed to its line by the slow path)."""


@dataclass(frozen=True)
class DatasetLoad:
    scenario_id: str
    batch: str
    dataset: str
    mode: str
    file: Path
    rows: int
    bytes: int
    seconds: float


@dataclass
class LoadResult:
    loads: list[DatasetLoad] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # batch labels already loaded with the same content
    warnings: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(load.rows for load in self.loads)


class Reporter:
    """Progress hooks (the CLI draws them with rich); the default reports nothing."""

    def batch_start(self, batch: manifest.Batch, mode: str) -> None: ...

    def file_start(self, batch: manifest.Batch, dataset: str, total_bytes: int) -> None: ...

    def file_bytes(self, count: int) -> None: ...

    def file_done(self, load: DatasetLoad) -> None: ...


@dataclass(frozen=True)
class Step:
    batch: manifest.Batch
    mode: str  # replace | append


def plan(cursor: pg_cursor, chain: list[manifest.Batch]) -> list[Step]:
    loaded = audit.loaded_chain(cursor, chain[0].scenario_id)
    disk = [(batch.name, batch.fingerprint) for batch in chain]
    if loaded == disk:
        return []
    if loaded and disk[: len(loaded)] == loaded:
        return [Step(batch, "append") for batch in chain[len(loaded) :]]
    return [Step(chain[0], "replace")] + [Step(batch, "append") for batch in chain[1:]]


def _columns(dataset: Dataset) -> sql.Composable:
    return sql.SQL(", ").join(sql.Identifier(name) for name in dataset.column_names)


class _Load:
    def __init__(self, conn: pg_connection, seeds_dir: Path, reporter: Reporter):
        self.conn = conn
        self.cursor = conn.cursor()
        self.seeds_dir = seeds_dir
        self.reporter = reporter
        self.load_id = str(uuid.uuid4())
        self.result = LoadResult()

    # -- one file ---------------------------------------------------------------------------------------------
    def _copy_keyed(
        self, batch: manifest.Batch, dataset: Dataset, table: sql.Composable, keys: dict[str, frozenset[str]]
    ) -> tuple[int, int, str]:
        entry = batch.files[dataset.name]
        if not entry.path.is_file():
            raise LoadError(entry.path, "file listed in the manifest not found")
        self.reporter.file_start(batch, dataset.name, entry.path.stat().st_size)
        rows, size, sha256 = copy_csv(self.cursor, entry.path, table, dataset.column_names, self.reporter.file_bytes)
        # The bulk primary-key build and the seed-key check, in one round trip.
        statements = [sql.SQL("alter table {} add {}").format(table, sql.SQL(primary_key_sql(dataset)))]
        check = unknown_key_sql(dataset, table, keys)
        if check is not None:
            statements.append(check)
        self.cursor.execute(sql.SQL("; ").join(statements))
        if check is not None and self.cursor.fetchone() is not None:
            raise _UnknownKeyError
        if sha256 != entry.sha256:
            raise LoadError(entry.path, f"checksum {sha256} differs from the manifest's {entry.sha256}")
        if rows != entry.rows:
            raise LoadError(entry.path, f"{rows} rows, the manifest says {entry.rows}")
        return rows, size, sha256

    def _guarded(
        self,
        batch: manifest.Batch,
        dataset: Dataset,
        work: Callable[[], tuple[int, int, str]],
        *,
        existing: sql.Composable | None,
    ) -> tuple[int, int, str]:
        """Run one file's work under a savepoint; on a database error, find and raise the precise LoadError."""
        path = batch.files[dataset.name].path
        self.cursor.execute("savepoint load_file")
        try:
            outcome = work()
        except (psycopg2.Error, _UnknownKeyError) as error:
            self.cursor.execute("rollback to savepoint load_file")
            keys = dataset_reference_keys(dataset, self.seeds_dir)
            found = diagnosis.scan_file(path, dataset, batch.scenario_id, keys)
            if found is None and isinstance(error, psycopg2.errors.UniqueViolation):
                self.cursor.execute("savepoint diagnose")
                try:
                    found = diagnosis.find_duplicate(self.cursor, path, dataset, existing)
                except psycopg2.Error:
                    found = None
                self.cursor.execute("rollback to savepoint diagnose")
            if found is None and isinstance(error, _UnknownKeyError):
                found = LoadError(path, "a key not found in the seeds (its line could not be found again)")
            raise (found or diagnosis.from_postgres(path, error)) from error
        self.cursor.execute("release savepoint load_file")
        return outcome

    def _record(
        self,
        batch: manifest.Batch,
        dataset: Dataset,
        mode: str,
        outcome: tuple[int, int, str],
        started: datetime,
        seconds: float,
    ) -> None:
        rows, size, sha256 = outcome
        path = batch.files[dataset.name].path
        audit.record(
            self.cursor,
            audit.AuditRow(
                load_id=self.load_id,
                scenario_id=batch.scenario_id,
                batch=batch.name,
                continues=batch.continues,
                batch_sha256=batch.fingerprint,
                mode=mode,
                dataset=dataset.name,
                file=str(path),
                rows=rows,
                bytes=size,
                sha256=sha256,
                started_at=started,
                seconds=seconds,
            ),
        )
        done = DatasetLoad(batch.scenario_id, batch.name, dataset.name, mode, path, rows, size, seconds)
        self.result.loads.append(done)
        self.reporter.file_done(done)

    # -- batches ----------------------------------------------------------------------------------------------
    def replace(self, batch: manifest.Batch) -> None:
        swaps: list[Dataset] = []
        for dataset in DATASETS:
            started, clock = datetime.now(UTC), time.perf_counter()
            partition = partition_name(dataset, batch.scenario_id)
            staged = sql.Identifier(RAW_SCHEMA, f"{partition}__new")
            keys = dataset_reference_keys(dataset, self.seeds_dir)

            def work(dataset: Dataset = dataset, staged: sql.Identifier = staged, keys: dict = keys):
                self.cursor.execute(load_table_sql(dataset, staged, batch.scenario_id))
                return self._copy_keyed(batch, dataset, staged, keys)

            outcome = self._guarded(batch, dataset, work, existing=None)
            swaps.append(dataset)
            self._record(batch, dataset, "replace", outcome, started, time.perf_counter() - clock)
        # The swaps come last (dropping a partition locks its parent table until commit), in one round trip.
        swap = []
        for dataset in swaps:
            name = partition_name(dataset, batch.scenario_id)
            partition = sql.Identifier(RAW_SCHEMA, name)
            swap += [
                sql.SQL("drop table if exists {}").format(partition),
                sql.SQL("alter table {} rename to {}").format(
                    sql.Identifier(RAW_SCHEMA, f"{name}__new"), sql.Identifier(name)
                ),
                sql.SQL("alter index {} rename to {}").format(
                    sql.Identifier(RAW_SCHEMA, f"{name}__new_pkey"), sql.Identifier(f"{name}_pkey")
                ),
                sql.SQL("alter table {} attach partition {} for values in ({})").format(
                    sql.Identifier(RAW_SCHEMA, dataset.name), partition, sql.Literal(batch.scenario_id)
                ),
            ]
        self.cursor.execute(sql.SQL("; ").join(swap))

    def append(self, batch: manifest.Batch) -> None:
        for dataset in DATASETS:
            started, clock = datetime.now(UTC), time.perf_counter()
            partition = sql.Identifier(RAW_SCHEMA, partition_name(dataset, batch.scenario_id))
            staged = sql.Identifier(f"append__{dataset.name}")
            keys = dataset_reference_keys(dataset, self.seeds_dir)
            upsert = dataset.name in RESTATED_DATASETS

            def work(dataset=dataset, partition=partition, staged=staged, keys=keys, upsert=upsert):
                self.cursor.execute(load_table_sql(dataset, staged, batch.scenario_id, temporary=True))
                outcome = self._copy_keyed(batch, dataset, staged, keys)
                key = sql.SQL(", ").join(sql.Identifier(k) for k in dataset.primary_key)
                insert = sql.SQL("insert into {} ({}, loaded_at) select {}, loaded_at from {}").format(
                    partition, _columns(dataset), _columns(dataset), staged
                )
                if upsert:
                    others = [name for name in [*dataset.column_names, "loaded_at"] if name not in dataset.primary_key]
                    insert = sql.SQL("{} on conflict ({}) do update set {}").format(
                        insert,
                        key,
                        sql.SQL(", ").join(sql.SQL("{0} = excluded.{0}").format(sql.Identifier(n)) for n in others),
                    )
                self.cursor.execute(sql.SQL("{}; drop table {}").format(insert, staged))
                return outcome

            outcome = self._guarded(batch, dataset, work, existing=None if upsert else partition)
            self._record(batch, dataset, "append", outcome, started, time.perf_counter() - clock)


def _chains(out: Path, scenarios: Sequence[str] | None, batch: str | None, seeds_dir: Path, result: LoadResult):
    on_disk = manifest.scenarios_on_disk(out)
    wanted = list(on_disk) if not scenarios or list(scenarios) == ["all"] else list(dict.fromkeys(scenarios))
    if not wanted:
        raise LoadError(out, "no generated batch found (run `queijaria generate` first)")
    if batch is not None and len(wanted) != 1:
        raise LoadError(out, "--batch needs exactly one --scenario")
    known = seed_keys(seeds_dir, "scenarios", "scenario_id")
    chains = []
    for scenario_id in wanted:
        if scenario_id not in on_disk:
            raise LoadError(out / scenario_id, f"no generated batch for scenario {scenario_id!r}")
        if scenario_id not in known:
            raise LoadError(
                out / scenario_id, f"unknown scenario {scenario_id!r}: not a scenario_id of seeds/scenarios.csv"
            )
        chain, warnings = manifest.batch_chain(out, scenario_id, batch)
        result.warnings.extend(warnings)
        chains.append(chain)
    return chains


def load(
    out: Path = DEFAULT_OUT,
    scenarios: Sequence[str] | None = None,
    batch: str | None = None,
    *,
    settings: ConnectionSettings | None = None,
    seeds_dir: Path = SEEDS_DIR,
    reporter: Reporter | None = None,
) -> LoadResult:
    """Load the generated batches of the scenarios (all found when None or ["all"]); raises LoadError."""
    result = LoadResult()
    chains = _chains(Path(out), scenarios, batch, seeds_dir, result)
    conn = connect(settings)
    try:
        job = _Load(conn, seeds_dir, reporter or Reporter())
        job.result = result
        cursor = job.cursor
        cursor.execute("select pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        cursor.execute("set local wal_skip_threshold = %s", (WAL_SKIP_THRESHOLD,))
        ensure_raw_tables(conn, commit=False)
        for chain in chains:
            steps = plan(cursor, chain)
            if not steps:
                result.skipped.extend(b.label for b in chain)
                continue
            for step in steps:
                job.reporter.batch_start(step.batch, step.mode)
                getattr(job, step.mode)(step.batch)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.close()
    return result
