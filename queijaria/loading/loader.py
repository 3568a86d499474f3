"""Plan and run a load: every batch of the chosen scenarios, in ONE transaction (all or nothing).

Per scenario the loader compares the chain of batches on disk with what raw.load_audit says is loaded:
- same batches, same checksums: nothing to do (a second identical load changes nothing, not even loaded_at);
- the loaded chain is a prefix of the disk chain: APPEND the new batches;
- anything else: REPLACE the scenario from its fresh batch, then append the batches that continue it.

Replace, per dataset: COPY into a new table created in this transaction (no WAL with wal_level=minimal, no
index to maintain row by row), with the NOT NULL / CHECK constraints and the scenario pinned; check the seed keys
in one query; build the primary key in bulk; then swap it in for the scenario's partition (drop old, attach new).
Append, per dataset: COPY into a temporary table with the same checks and the key (one per dataset and scenario,
emptied for each batch), then insert into the partition (production orders: upsert on the key, as a later batch
restates orders that changed).
Then, per batch, the keys between datasets (a consumption's lot and order, a sample's order...) are checked against
the scenario's data after the batch, in one query. A dataset that every batch has rows of may not be header-only.
When PostgreSQL refuses a file, the transaction goes back to a savepoint, the diagnosis names file, line and column,
and the whole load is rolled back. Whatever else stops a load (see `failures`) rolls it back too and ends in one
clear error, without a diagnosis.
A batch already loaded is skipped only when its files on disk still hash to what raw.load_audit recorded; `force`
replaces each scenario from its files all the same (the repair of raw data changed by other means).
The transaction holds the raw data's advisory lock exclusively; every dbt model holds it shared (macros/build_lock),
so a load waits for the models running and never commits under one.
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

from dataset_contract import BY_NAME, DATASETS, SEEDS_DIR, Dataset
from queijaria import PROJECT_ROOT
from queijaria.db.connection import ConnectionSettings, connect
from queijaria.loading import audit, diagnosis, failures, manifest
from queijaria.loading.errors import LoadError
from queijaria.loading.raw_schema import (
    RAW_SCHEMA,
    ensure_raw_tables,
    foreign_keys,
    load_table_sql,
    missing_reference_sql,
    overdrawn_lot_sql,
    partition_name,
    primary_key_sql,
    unknown_key_sql,
)
from queijaria.loading.reference_keys import dataset_reference_keys, seed_keys
from queijaria.loading.streaming import LINE_LIMIT, LineTooLongError, copy_csv

DEFAULT_OUT = PROJECT_ROOT / "data" / "generated"
# Datasets whose later batches may restate rows of earlier ones (same key): appended by upsert.
RESTATED_DATASETS = frozenset({"production_orders"})
# The raw data's advisory lock: a load takes it exclusively (one load at a time per database), every dbt model
# shared, in macros/build_lock/build_lock.sql, which spells the same number in decimal.
LOCK_KEY = 0x51756A6C
# How often a load waiting for another one tries again: waiting in Python, not in the server, keeps Ctrl-C instant.
LOAD_POLL_SECONDS = 0.2
# With wal_level=minimal, a table created in the transaction is made durable at commit by fsyncing its files or,
# below this size, by writing it to the WAL; the WAL write costs a fifth of the fsyncs for a batch's tables.
WAL_SKIP_THRESHOLD = "64MB"
APPLICATION_NAME = "queijaria load"
# SQLSTATE classes of errors caused by the file's content (data exception, integrity violation, program limit such
# as a key too long for its index): only these are worth the diagnosis' second reading of the file.
DATA_ERROR_CLASSES = ("22", "23", "54")


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

    def waiting(self, holders: list[str]) -> None:
        """The load waits for the sessions that hold the raw data (another load, a dbt model being built)."""


@dataclass(frozen=True)
class Step:
    batch: manifest.Batch
    mode: str  # replace | append


def plan(cursor: pg_cursor, chain: list[manifest.Batch], *, force: bool = False) -> list[Step]:
    """The steps that make the raw tables hold the chain; `force` replaces the scenario even when they already do
    (the repair of raw data changed outside the loader, which the audit cannot see)."""
    if force:
        return [Step(chain[0], "replace")] + [Step(batch, "append") for batch in chain[1:]]
    loaded = audit.loaded_chain(cursor, chain[0].scenario_id)
    disk = [(batch.name, batch.fingerprint) for batch in chain]
    held = [(batch.batch, batch.fingerprint) for batch in loaded]
    if held and disk[: len(held)] == held:
        for batch, loaded_batch in zip(chain, loaded, strict=False):
            audit.verify_unchanged(batch, loaded_batch)
        return [Step(batch, "append") for batch in chain[len(held) :]]
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
        # (dataset, scenario) of the temporary load tables of appended batches created so far (reused by later ones).
        self.append_tables: set[tuple[str, str]] = set()
        self.result = LoadResult()

    # -- one file ---------------------------------------------------------------------------------------------
    def _copy_keyed(
        self,
        batch: manifest.Batch,
        dataset: Dataset,
        table: sql.Composable,
        keys: dict[str, frozenset[str]],
        *,
        keyed: bool = False,
    ) -> tuple[int, int, str]:
        entry = batch.files[dataset.name]
        if not entry.path.is_file():
            raise LoadError(entry.path, "file listed in the manifest not found")
        self.reporter.file_start(batch, dataset.name, entry.path.stat().st_size)
        copied = copy_csv(
            self.cursor,
            entry.path,
            table,
            dataset.column_names,
            self.reporter.file_bytes,
            watch_times=any(column.pg_type == "timestamp" for column in dataset.columns),
        )
        # The bulk primary-key build (of a table created without it) and the seed-key check, in one round trip.
        statements = (
            [] if keyed else [sql.SQL("alter table {} add {}").format(table, sql.SQL(primary_key_sql(dataset)))]
        )
        check = unknown_key_sql(dataset, table, keys)
        if check is not None:
            statements.append(check)
        if statements:
            self.cursor.execute(sql.SQL("; ").join(statements))
        if check is not None and self.cursor.fetchone() is not None:
            raise _UnknownKeyError
        if copied.sha256 != entry.sha256:
            raise LoadError(entry.path, f"checksum {copied.sha256} differs from the manifest's {entry.sha256}")
        if copied.rows != entry.rows:
            raise LoadError(entry.path, f"{copied.rows} rows, the manifest says {entry.rows}")
        if copied.rows == 0 and dataset.always_has_rows:
            raise LoadError(
                entry.path,
                f"header only, no rows: every batch has {dataset.name} ({dataset.always_has_rows}), and loading "
                "this file would empty the scenario's table",
            )
        if copied.time_suffix_seen:
            found = diagnosis.find_time_zone(entry.path, dataset)
            if found is not None:
                raise found
        if dataset.is_dated_within_batch:
            self._check_within_batch(batch, dataset, table)
        return copied.rows, copied.bytes, copied.sha256

    def _check_within_batch(self, batch: manifest.Batch, dataset: Dataset, table: sql.Composable) -> None:
        """A row that plans a day belongs to the batch of that day: dated outside it, it would be loaded with the
        wrong batch (and replaced or duplicated by the batch that has that day)."""
        column = dataset.event_time_column
        self.cursor.execute(
            sql.SQL("select {column}::text from {table} where {column} not between %s and %s limit 1").format(
                column=sql.Identifier(column), table=table
            ),
            (batch.first_date, batch.last_date),
        )
        outside = self.cursor.fetchone()
        if outside is not None:
            path = batch.files[dataset.name].path
            raise LoadError(
                path,
                f"{column} {outside[0]} is outside the batch's days ({batch.first_date} to {batch.last_date}): each "
                f"row of {dataset.name} belongs to the batch of its day",
                line=diagnosis.find_value(path, dataset, column, outside[0]),
                column=column,
            )

    def _guarded(
        self,
        batch: manifest.Batch,
        dataset: Dataset,
        work: Callable[[], tuple[int, int, str]],
        *,
        existing: sql.Composable | None,
    ) -> tuple[int, int, str]:
        """Run one file's work under a savepoint; on a data error, find and raise the precise LoadError.

        Any other failure (lock timeout, cancel, lost connection, Ctrl-C) goes up as it is: reading the file again
        would only delay the message.
        """
        path = batch.files[dataset.name].path
        self.cursor.execute("savepoint load_file")
        try:
            outcome = work()
        except (psycopg2.Error, _UnknownKeyError, LineTooLongError) as error:
            if isinstance(error, psycopg2.Error) and (error.pgcode or "")[:2] not in DATA_ERROR_CLASSES:
                raise
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
            if found is None and isinstance(error, LineTooLongError):
                found = LoadError(path, f"a line longer than {LINE_LIMIT >> 20} MB (it could not be found again)")
            raise (found or diagnosis.from_postgres(path, error)) from error
        self.cursor.execute("release savepoint load_file")
        return outcome

    def _check_references(
        self,
        batch: manifest.Batch,
        loaded: Callable[[Dataset], sql.Composable],
        scenario_data: Callable[[Dataset], sql.Composable],
        where: str,
    ) -> None:
        """Every key a batch's rows take from another dataset (a lot, an order) exists in the scenario's data.

        `loaded` is the table holding the batch's rows of a dataset, `scenario_data` the one holding the scenario's
        rows after the batch; one query checks every such key.
        """
        checks = [(dataset, column) for dataset in DATASETS for column in foreign_keys(dataset)]
        self.cursor.execute(
            sql.SQL("select {}").format(
                sql.SQL(", ").join(
                    missing_reference_sql(column, loaded(dataset), scenario_data(BY_NAME[column.foreign_key[0]]))
                    for dataset, column in checks
                    if column.foreign_key is not None
                )
            )
        )
        missing = self.cursor.fetchone()
        for (dataset, column), value in zip(checks, missing, strict=True):
            if value is None or column.foreign_key is None:
                continue
            target, key = column.foreign_key
            path = batch.files[dataset.name].path
            raise LoadError(
                path,
                f"{column.name} {diagnosis.shown(value)} is not a {key} of {target} in scenario "
                f"{batch.scenario_id!r}: {where.format(target=target)}",
                line=diagnosis.find_value(path, dataset, column.name, value),
                column=column.name,
            )

    def _check_lot_balances(
        self,
        batch: manifest.Batch,
        loaded: Callable[[Dataset], sql.Composable],
        scenario_data: Callable[[Dataset], sql.Composable],
    ) -> None:
        """No lot gives more than it received (DOMAIN.md §2, mass balance): what the batch issues from a lot or
        moves out of it, with what earlier batches did, stays within the lot's quantity."""
        self.cursor.execute(overdrawn_lot_sql(loaded, scenario_data))
        overdrawn = self.cursor.fetchone()
        if overdrawn is None:
            return
        lot_id, received, consumed, moved = overdrawn
        for dataset in (BY_NAME["material_consumptions"], BY_NAME["stock_movements"]):
            path = batch.files[dataset.name].path
            line = diagnosis.find_value(path, dataset, "lot_id", lot_id)
            if line is not None:
                break
        raise LoadError(
            path,
            f"lot {diagnosis.shown(lot_id)} gives more than it received: {received} received, {consumed} issued to "
            f"orders and {moved} sold or discarded in scenario {batch.scenario_id!r} (this batch and earlier ones)",
            line=line,
            column="lot_id",
        )

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
        def staged(dataset: Dataset) -> sql.Identifier:
            return sql.Identifier(RAW_SCHEMA, f"{partition_name(dataset, batch.scenario_id)}__new")

        for dataset in DATASETS:
            started, clock = datetime.now(UTC), time.perf_counter()
            keys = dataset_reference_keys(dataset, self.seeds_dir)

            def work(dataset: Dataset = dataset, keys: dict = keys):
                table = staged(dataset)
                self.cursor.execute(load_table_sql(dataset, table, batch.scenario_id))
                return self._copy_keyed(batch, dataset, table, keys)

            outcome = self._guarded(batch, dataset, work, existing=None)
            self._record(batch, dataset, "replace", outcome, started, time.perf_counter() - clock)
        self._check_references(batch, staged, staged, "the batch's {target}.csv lacks it")
        self._check_lot_balances(batch, staged, staged)
        # The swaps come last (dropping a partition locks its parent table until commit), in one round trip.
        swap = []
        for dataset in DATASETS:
            name = partition_name(dataset, batch.scenario_id)
            partition = sql.Identifier(RAW_SCHEMA, name)
            swap += [
                sql.SQL("drop table if exists {}").format(partition),
                sql.SQL("alter table {} rename to {}").format(staged(dataset), sql.Identifier(name)),
                sql.SQL("alter index {} rename to {}").format(
                    sql.Identifier(RAW_SCHEMA, f"{name}__new_pkey"), sql.Identifier(f"{name}_pkey")
                ),
                sql.SQL("alter table {} attach partition {} for values in ({})").format(
                    sql.Identifier(RAW_SCHEMA, dataset.name), partition, sql.Literal(batch.scenario_id)
                ),
            ]
        self.cursor.execute(sql.SQL("; ").join(swap))

    def append(self, batch: manifest.Batch) -> None:
        def staged(dataset: Dataset) -> sql.Identifier:
            return sql.Identifier(f"append__{partition_name(dataset, batch.scenario_id)}")

        def partition(dataset: Dataset) -> sql.Identifier:
            return sql.Identifier(RAW_SCHEMA, partition_name(dataset, batch.scenario_id))

        for dataset in DATASETS:
            started, clock = datetime.now(UTC), time.perf_counter()
            keys = dataset_reference_keys(dataset, self.seeds_dir)
            upsert = dataset.name in RESTATED_DATASETS
            created = (dataset.name, batch.scenario_id) in self.append_tables

            def work(dataset: Dataset = dataset, keys: dict = keys, upsert: bool = upsert, created: bool = created):
                target, table = partition(dataset), staged(dataset)
                if created:
                    self.cursor.execute(sql.SQL("truncate {}").format(table))
                else:
                    self.cursor.execute(load_table_sql(dataset, table, batch.scenario_id, temporary=True))
                outcome = self._copy_keyed(batch, dataset, table, keys, keyed=True)
                key = sql.SQL(", ").join(sql.Identifier(k) for k in dataset.primary_key)
                insert = sql.SQL("insert into {} ({}, loaded_at) select {}, loaded_at from {}").format(
                    target, _columns(dataset), _columns(dataset), table
                )
                if upsert:
                    others = [name for name in [*dataset.column_names, "loaded_at"] if name not in dataset.primary_key]
                    insert = sql.SQL("{} on conflict ({}) do update set {}").format(
                        insert,
                        key,
                        sql.SQL(", ").join(sql.SQL("{0} = excluded.{0}").format(sql.Identifier(n)) for n in others),
                    )
                self.cursor.execute(insert)
                return outcome

            outcome = self._guarded(batch, dataset, work, existing=None if upsert else partition(dataset))
            self.append_tables.add((dataset.name, batch.scenario_id))
            self._record(batch, dataset, "append", outcome, started, time.perf_counter() - clock)
        # The batch's rows stay in their load tables (emptied by the next batch) for the check of the keys.
        self._check_references(
            batch, staged, partition, "neither the batch's {target}.csv nor an earlier batch of the scenario has it"
        )
        self._check_lot_balances(batch, staged, partition)


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


def _lock_holders(cursor: pg_cursor) -> list[str]:
    """The sessions holding LOCK_KEY, described for the user (a bigint key is classid/objid, objsubid 1)."""
    cursor.execute(
        """
        select a.pid, a.application_name, coalesce(a.xact_start, a.backend_start)
        from pg_locks as l
        inner join pg_stat_activity as a on l.pid = a.pid
        where l.locktype = 'advisory' and l.granted and l.objsubid = 1
            and l.classid::bigint = %s and l.objid::bigint = %s and l.database = (
                select oid from pg_database where datname = current_database()
            )
        order by 3
        """,
        (LOCK_KEY >> 32, LOCK_KEY & 0xFFFFFFFF),
    )
    kinds = {APPLICATION_NAME: "another queijaria load", "dbt": "a dbt model being built"}
    return [
        f"pid {pid} ({kinds.get(application) or 'application ' + diagnosis.shown(application or '')}, "
        f"since {since:%H:%M:%S})"
        for pid, application, since in cursor.fetchall()
    ]


def _wait_for_other_loads(cursor: pg_cursor, reporter: Reporter) -> None:
    """Take the raw data's lock exclusively, waiting as long as another load or a dbt model holds it.

    Every dbt model takes the same lock, shared, in its own transaction (macros/build_lock): so a load never
    commits while a model reads raw data, and a model that starts after a load committed during its `dbt build`
    stops with a message instead of computing on a mix of the data before and after the load.
    """
    told = False
    while True:
        cursor.execute("select pg_try_advisory_xact_lock(%s)", (LOCK_KEY,))
        if cursor.fetchone()[0]:
            return
        if not told:
            holders = _lock_holders(cursor)
            if holders:
                reporter.waiting(holders)
                told = True
        time.sleep(LOAD_POLL_SECONDS)


def _analyze(conn: pg_connection, result: LoadResult) -> None:
    """Planner statistics of the tables just loaded, at once: dbt builds right after a load, and a plan made on a
    freshly copied table without statistics can cost minutes (autovacuum would only get to it later)."""
    loaded = sorted({load.dataset for load in result.loads if load.rows})
    if not loaded:
        return
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                sql.SQL("analyze {}").format(sql.SQL(", ").join(sql.SQL(BY_NAME[name].table) for name in loaded))
            )
    finally:
        conn.autocommit = False


def load(
    out: Path = DEFAULT_OUT,
    scenarios: Sequence[str] | None = None,
    batch: str | None = None,
    *,
    settings: ConnectionSettings | None = None,
    seeds_dir: Path = SEEDS_DIR,
    reporter: Reporter | None = None,
    force: bool = False,
) -> LoadResult:
    """Load the generated batches of the scenarios (all found when None or ["all"]); `force` loads them again even
    when raw.load_audit says they are loaded with the same checksums (each scenario is replaced from its files).

    Raises LoadError (nothing was loaded), or LoadInterrupted on Ctrl-C or a cancelled query (nothing was loaded).
    """
    result = LoadResult()
    try:
        chains = _chains(Path(out), scenarios, batch, seeds_dir, result)
    except OSError as error:  # a folder or manifest that cannot be listed or read
        raise LoadError(error.filename, f"cannot be read: {error.strerror or error}") from error
    conn = connect(settings)
    committing = False
    try:
        job = _Load(conn, seeds_dir, reporter or Reporter())
        job.result = result
        cursor = job.cursor
        cursor.execute("set application_name = %s", (APPLICATION_NAME,))
        _wait_for_other_loads(cursor, job.reporter)
        cursor.execute(
            "set local wal_skip_threshold = %s; set local lock_timeout = %s",
            (WAL_SKIP_THRESHOLD, failures.LOCK_TIMEOUT),
        )
        ensure_raw_tables(conn, commit=False)
        for chain in chains:
            steps = plan(cursor, chain, force=force)
            if not steps:
                result.skipped.extend(b.label for b in chain)
                continue
            for step in steps:
                job.reporter.batch_start(step.batch, step.mode)
                getattr(job, step.mode)(step.batch)
        committing = True
        conn.commit()
        _analyze(conn, result)
    except BaseException as error:
        failure = failures.clear_error(conn, error, committing=committing)
        if failure is error:
            raise
        raise failure from error
    finally:
        conn.close()
    return result
