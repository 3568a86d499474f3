"""One daily run at a time per database: a PostgreSQL advisory lock held by the run's own session.

The lock lives in the database the run writes, not on one machine's disk, so a run of the compose `etl_runner` and
a `make daily` on a laptop against the same server exclude each other too. The server releases it when the holding
session ends, so a run that is killed leaves no stale lock behind.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from queijaria.db.connection import ConnectionSettings, connect

# An arbitrary fixed 64-bit key: every daily run, whatever its version, must ask for the same one.
DAILY_FLOW_LOCK_KEY = 7_220_401_903_311_905_281
APPLICATION_NAME = "queijaria daily flow"
POLL_S = 0.5


class RunLockedError(RuntimeError):
    """Another daily run holds the lock; the message names it."""


@contextmanager
def daily_run_lock(settings: ConnectionSettings, wait_s: float = 0.0) -> Iterator[None]:
    """Hold the daily-run lock for the block; wait up to wait_s for it, then refuse with the holder's details."""
    conn = connect(settings)
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute("set application_name = %s", (APPLICATION_NAME,))
            deadline = time.monotonic() + wait_s
            while True:
                cursor.execute("select pg_try_advisory_lock(%s)", (DAILY_FLOW_LOCK_KEY,))
                if cursor.fetchone()[0]:
                    break
                if time.monotonic() >= deadline:
                    raise RunLockedError(_holder_message(cursor, wait_s))
                time.sleep(POLL_S)
        yield
    finally:
        conn.close()  # ends the session, which releases the lock


def _holder_message(cursor, wait_s: float) -> str:
    cursor.execute(
        """
        select activity.pid, activity.client_addr::text, activity.backend_start
        from pg_locks as locks
        inner join pg_stat_activity as activity on activity.pid = locks.pid
        where locks.locktype = 'advisory' and locks.granted
            and locks.objsubid = 1 and (locks.classid::bigint << 32) | locks.objid::bigint = %s
        """,
        (DAILY_FLOW_LOCK_KEY,),
    )
    holder = cursor.fetchone()
    waited = f" after waiting {wait_s:g} s" if wait_s else ""
    who = (
        f"session pid {holder[0]} from {holder[1] or 'a local socket'}, running since {holder[2]:%Y-%m-%d %H:%M:%S %Z}"
        if holder
        else "a session that has just ended"
    )
    return (
        f"another daily run holds the lock ({who}); this run stops{waited} and changed nothing. "
        "Wait for it to finish, or give --wait-s to queue behind it."
    )
