"""The embedded server on a shared machine: two `db up` at once, another OS user, folders that are not its own."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import free_port

from queijaria import PROJECT_ROOT

QUEIJARIA = str(Path(sys.executable).with_name("queijaria"))


def db(command: str, pgdata: Path, port: int, **environ: str) -> subprocess.CompletedProcess[str]:
    """`queijaria db <command>` on a data directory and port of the test's own."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("PG") and name != "DATABASE_URL"}
    env.update(QUEIJARIA_PGDATA=str(pgdata), PGPORT=str(port), **environ)
    return subprocess.run([QUEIJARIA, "db", command], env=env, capture_output=True, text=True, timeout=180)


# `db down` finds the server by its data folder; the port only has to be a valid one.
ANY_PORT = 1


@pytest.fixture
def pgdata(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "pgdata"
    yield folder
    stopped = db("down", folder, ANY_PORT)
    assert stopped.returncode == 0, stopped.stderr


def test_two_db_up_at_once_start_one_server_and_both_succeed(pgdata: Path) -> None:
    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("PG") and name != "DATABASE_URL"}
    env.update(QUEIJARIA_PGDATA=str(pgdata), PGPORT=str(port))
    runs = [
        subprocess.Popen([QUEIJARIA, "db", "up"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=180) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    said = sorted(stdout.split(" at ")[0].split(" (pid")[0] for stdout, _ in outputs)
    assert said == ["embedded PostgreSQL 18 started", "embedded PostgreSQL already running"], outputs
    assert all(stderr == "" for _, stderr in outputs), outputs


def test_reset_deletes_nothing_but_a_data_directory(tmp_path: Path) -> None:
    folder = tmp_path / "my documents"
    folder.mkdir()
    (folder / "thesis.txt").write_text("years of work\n")
    result = db("reset", folder, free_port())
    assert result.returncode == 1
    assert "is a folder with other files in it, not a PostgreSQL data directory" in result.stderr
    assert "`db reset` deletes nothing" in result.stderr
    assert "Traceback" not in result.stderr
    assert (folder / "thesis.txt").read_text() == "years of work\n"


def test_up_leaves_a_folder_of_other_files_and_its_owner_alone(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir(mode=0o700)
    (folder / "cheese.jpg").write_bytes(b"\xff\xd8")
    before = folder.stat()
    result = db("up", folder, free_port())
    assert result.returncode == 1
    assert "the embedded server does not start in it" in result.stderr
    after = folder.stat()
    assert (after.st_uid, after.st_gid, after.st_mode) == (before.st_uid, before.st_gid, before.st_mode)
    assert sorted(path.name for path in folder.iterdir()) == ["cheese.jpg"]


def test_a_data_folder_under_a_private_temporary_folder_starts(pgdata: Path, tmp_path: Path) -> None:
    """As root the server runs as the `pgserver` OS user, which must reach a folder made by `mktemp -d` (0700)."""
    private = Path(tempfile.mkdtemp(dir=tmp_path))
    assert private.stat().st_mode & 0o777 == 0o700
    folder = private / "pgdata"
    try:
        result = db("up", folder, free_port())
        assert result.returncode == 0, result.stderr
        assert "embedded PostgreSQL 18 started" in result.stdout
    finally:
        stopped = db("down", folder, ANY_PORT)
        assert stopped.returncode == 0, stopped.stderr


def _other_user() -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        return None


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a command as another OS user")
def test_an_ordinary_user_starts_a_server_after_root_used_the_shared_temporary_folder(tmp_path: Path) -> None:
    """pgserver's own lock is one file in the shared temporary folder; root's copy of it refused every other user
    (`PermissionError: ... /tmp/.lockfile`). Each data directory has its own lock now."""
    user = _other_user()
    if user is None or shutil.which("setpriv") is None:
        pytest.skip("no `nobody` user or no setpriv on this machine")
    switch = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]
    probe = subprocess.run([*switch, QUEIJARIA, "--help"], capture_output=True, text=True, cwd="/")
    if probe.returncode != 0:
        pytest.skip(f"the project at {PROJECT_ROOT} is not readable by other OS users: {probe.stderr[-300:]}")
    shared_tmp = Path(tempfile.mkdtemp(prefix="queijaria-shared-tmp-", dir="/tmp"))
    home = Path(tempfile.mkdtemp(prefix="queijaria-user-home-", dir="/tmp"))
    try:
        shared_tmp.chmod(0o1777)
        (shared_tmp / ".lockfile").write_text("")  # what root's earlier run leaves, mode 0644
        os.chown(home, user.pw_uid, user.pw_gid)
        pgdata = home / "pgdata"
        port = free_port()
        env = {name: value for name, value in os.environ.items() if not name.startswith(("PG", "XDG_"))}
        env.pop("DATABASE_URL", None)
        env.update(HOME=str(home), TMPDIR=str(shared_tmp), QUEIJARIA_PGDATA=str(pgdata), PGPORT=str(port))
        as_user = [*switch, QUEIJARIA, "db"]
        try:
            up = subprocess.run([*as_user, "up"], env=env, capture_output=True, text=True, timeout=180, cwd=home)
            assert up.returncode == 0, up.stderr
            assert up.stdout.startswith("embedded PostgreSQL 18 started"), up.stdout
            assert pgdata.stat().st_uid == user.pw_uid
        finally:
            subprocess.run([*as_user, "down"], env=env, capture_output=True, text=True, timeout=180, cwd=home)
    finally:
        shutil.rmtree(shared_tmp, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)
