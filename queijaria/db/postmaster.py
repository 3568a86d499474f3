"""Whether a data directory's postmaster.pid names its live server, or is a stale file left by a crash or reboot.

A pid file only says that some process had that pid once. After a reboot the pid may belong to an unrelated
program: PostgreSQL then refuses to start ("lock file already exists"), and `pg_ctl stop` would signal that
program. So the server counts as running only when the process is a `postgres` working in this directory
(a postmaster changes into its data directory at start).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import psutil

PID_FILE = "postmaster.pid"
# The eighth line of postmaster.pid: "starting", "ready", "stopping" (PostgreSQL's pidfile.h).
STATUS_LINE = 7


@dataclass(frozen=True)
class PidFile:
    pid: int
    status: str
    # True when the pid is this data directory's postmaster; False when the file is stale.
    is_live: bool
    # What the pid is now, for messages: "no process" or the other program's name.
    holder: str
    # A single-user backend (initdb's bootstrap, the offline set-up) is working on this directory right now.
    is_single_user: bool = False


def _postmaster_data_directory(process: psutil.Process) -> Path | None:
    """The working directory of a postgres process, None for any other program."""
    arguments = process.cmdline()
    if not arguments or Path(arguments[0]).name != "postgres":
        return None
    return Path(process.cwd())


def read_pid_file(pgdata: Path) -> PidFile | None:
    """None without a pid file; otherwise its pid, status, and whether that pid is really this server."""
    try:
        lines = (pgdata / PID_FILE).read_text().splitlines()
        pid = int(lines[0])
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (ValueError, IndexError):
        # Empty or torn (a crash while writing it): nothing can be running from it.
        return PidFile(pid=0, status="", is_live=False, holder="an unreadable pid file")
    status = lines[STATUS_LINE].strip() if len(lines) > STATUS_LINE else "starting"
    # A single-user backend (initdb's bootstrap, or a set-up statement) writes its pid negated.
    process_id = abs(pid)
    try:
        process = psutil.Process(process_id)
        data_directory = _postmaster_data_directory(process)
        holder = f"{process.name()} (pid {process_id})"
    except (psutil.NoSuchProcess, ValueError):
        return PidFile(pid=process_id, status=status, is_live=False, holder=f"no process (pid {process_id})")
    except psutil.AccessDenied:
        # Another user's process: the embedded server runs as this user (or as pgserver when run as root,
        # whose processes root can read), so it is not ours.
        return PidFile(
            pid=process_id, status=status, is_live=False, holder=f"another user's process (pid {process_id})"
        )
    is_ours = data_directory is not None and _same_directory(data_directory, pgdata)
    return PidFile(
        pid=process_id, status=status, is_live=is_ours and pid > 0, holder=holder, is_single_user=is_ours and pid < 0
    )


def _same_directory(first: Path, second: Path) -> bool:
    try:
        return first.resolve().samefile(second.resolve())
    except OSError:
        return False
