"""raw.load_audit: one row per dataset file loaded (file, rows, bytes, checksum, time); also the loaded state,
and the check that the files of a loaded batch are still the files loaded."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from psycopg2.extensions import cursor as pg_cursor

from dataset_contract import DATASETS
from queijaria.loading.errors import LoadError
from queijaria.loading.manifest import Batch
from queijaria.loading.raw_schema import AUDIT_TABLE, RAW_SCHEMA

AUDIT = f"{RAW_SCHEMA}.{AUDIT_TABLE}"


@dataclass(frozen=True)
class AuditRow:
    load_id: str
    scenario_id: str
    batch: str
    continues: str | None
    batch_sha256: str
    mode: str
    dataset: str
    file: str
    rows: int
    bytes: int
    sha256: str
    started_at: datetime
    seconds: float


def record(cursor: pg_cursor, row: AuditRow) -> None:
    cursor.execute(
        f"""
        insert into {AUDIT} (
            load_id, scenario_id, batch, continues, batch_sha256, mode, dataset, file, rows, bytes, sha256,
            started_at, finished_at, seconds
        )
        values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, clock_timestamp(), %s)
        """,
        (
            row.load_id,
            row.scenario_id,
            row.batch,
            row.continues,
            row.batch_sha256,
            row.mode,
            row.dataset,
            row.file,
            row.rows,
            row.bytes,
            row.sha256,
            row.started_at,
            row.seconds,
        ),
    )


@dataclass(frozen=True)
class LoadedBatch:
    """A batch the raw tables hold: its name, fingerprint, and per dataset the (sha256, bytes) of the file loaded."""

    batch: str
    fingerprint: str
    files: dict[str, tuple[str, int]]


def loaded_chain(cursor: pg_cursor, scenario_id: str) -> list[LoadedBatch]:
    """What the raw tables hold for a scenario, oldest first: its last replace and the appends since.

    A batch counts only when every dataset of it was recorded; an incomplete history reads as nothing loaded.
    """
    cursor.execute(
        f"""
        with batches as (
            select
                load_id,
                batch,
                batch_sha256,
                mode,
                min(load_audit_id) as first_row
            from {AUDIT}
            where scenario_id = %s
            group by load_id, batch, batch_sha256, mode
        ),

        last_replace as (
            select max(first_row) as first_row from batches where mode = 'replace'
        )

        select batches.first_row, batches.batch, batches.batch_sha256, audit.dataset, audit.sha256, audit.bytes
        from batches
        cross join last_replace
        inner join {AUDIT} as audit
            on audit.load_id = batches.load_id and audit.batch = batches.batch and audit.scenario_id = %s
        where batches.first_row >= last_replace.first_row
        order by batches.first_row, audit.load_audit_id
        """,
        (scenario_id, scenario_id),
    )
    chain: dict[int, LoadedBatch] = {}
    for first_row, batch, fingerprint, dataset, sha256, size in cursor.fetchall():
        loaded = chain.setdefault(first_row, LoadedBatch(batch, fingerprint, {}))
        loaded.files[dataset] = (sha256, size)
    if any(len(loaded.files) != len(DATASETS) for loaded in chain.values()):
        return []
    return list(chain.values())


def _file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def verify_unchanged(batch: Batch, loaded: LoadedBatch) -> None:
    """The files of a batch the raw tables hold must still be the files loaded: an edit after the fact is an error.

    The manifest of an edited file still lists the old checksum, so the file cannot be reloaded either (its COPY
    would fail the checksum): the user regenerates the batch or restores the file.
    """
    for dataset in DATASETS:
        path = batch.files[dataset.name].path
        if not path.is_file():
            raise LoadError(path, "file listed in the manifest not found (the batch is loaded; its files must stay)")
        sha256, size = loaded.files[dataset.name]
        if path.stat().st_size != size or _file_sha256(path) != sha256:
            raise LoadError(
                path,
                f"changed after it was loaded: it no longer matches the sha256 {sha256[:12]}... that raw.load_audit "
                "recorded and its manifest lists; restore the file, or regenerate the batch (queijaria generate) "
                "to load new data",
            )
