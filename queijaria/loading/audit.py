"""raw.load_audit: one row per dataset file loaded (file, rows, bytes, checksum, time); also the loaded state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from psycopg2.extensions import cursor as pg_cursor

from queijaria.datasets import DATASETS
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


def loaded_chain(cursor: pg_cursor, scenario_id: str) -> list[tuple[str, str]]:
    """(batch, batch fingerprint) of what the raw tables hold for a scenario: its last replace and the appends since.

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
                min(load_audit_id) as first_row,
                count(distinct dataset) as datasets
            from {AUDIT}
            where scenario_id = %s
            group by load_id, batch, batch_sha256, mode
        ),

        last_replace as (
            select max(first_row) as first_row from batches where mode = 'replace'
        )

        select batches.batch, batches.batch_sha256, batches.datasets
        from batches
        cross join last_replace
        where batches.first_row >= last_replace.first_row
        order by batches.first_row
        """,
        (scenario_id,),
    )
    rows = cursor.fetchall()
    if any(datasets != len(DATASETS) for _, _, datasets in rows):
        return []
    return [(batch, fingerprint) for batch, fingerprint, _ in rows]
