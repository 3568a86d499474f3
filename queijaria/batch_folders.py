"""Batch folders of `queijaria generate` on disk: a new batch is written to a staging folder beside its destination
and swapped in only when complete; a fresh run then removes exactly the files the generator wrote before.

A staging folder is `<out>/<scenario>/.incomplete-<random>/<batch>/`: on the destination's file system (so that the
swap is a rename) and two levels down, where the loader, which reads `<out>/<scenario>/*/manifest.json`, never looks.
What the generator wrote in a batch folder is its manifest, its state and the files the manifest lists; anything else
(a user's notes, a thesis) stays where it is and is named in a warning.
"""

from __future__ import annotations

import json
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from generators.engine import BATCH_FILES, MANIFEST_FILE
from generators.state import STATE_FILE

STAGING_PREFIX = ".incomplete-"


class OutputError(Exception):
    """A folder the generator cannot write or replace; the message says which and what to do."""


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


def generated_files(batch: Path) -> list[str]:
    """The names of the files the generator wrote in a batch folder, read from its manifest."""
    path = batch / MANIFEST_FILE
    try:
        listed = [entry["file"] for entry in json.loads(path.read_text(encoding="utf-8"))["datasets"].values()]
    # RecursionError: JSON nested too deep; ValueError also covers an integer of too many digits.
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as error:
        raise OutputError(
            f"cannot tell which files of {batch} the generator wrote: its {MANIFEST_FILE} is unreadable ({error}); "
            "move that folder away and run again"
        ) from error
    names = [MANIFEST_FILE, STATE_FILE, *listed]
    # A manifest names files of its own folder only; anything else is not ours to delete.
    foreign = [
        name for name in names if not isinstance(name, str) or name in ("", ".", "..") or Path(name).name != name
    ]
    if foreign:
        raise OutputError(
            f"{path} lists files outside its folder ({', '.join(map(str, foreign))}); "
            "move that folder away and run again"
        )
    return list(dict.fromkeys(names))


def batch_folders(scenario_folder: Path) -> list[Path]:
    """The scenario's batches: its sub-folders holding a manifest (staging folders hold theirs one level lower)."""
    if not scenario_folder.is_dir():
        return []
    return sorted(path for path in scenario_folder.iterdir() if (path / MANIFEST_FILE).is_file())


@dataclass
class StagedBatch:
    destination: Path  # <out>/<scenario>/<first>_<last>
    staging: Path  # <out>/<scenario>/.incomplete-<random>, ours entirely
    replaces: list[Path]  # earlier batches a fresh run removes once this one is complete
    created: list[Path] = field(default_factory=list)  # folders made for the staging, removed again if left empty
    committed: bool = False
    keep_staging: bool = False

    @property
    def folder(self) -> Path:
        """Where the engine writes the batch."""
        return self.staging / self.destination.name

    @property
    def scenario_folder(self) -> Path:
        return self.destination.parent


def _check_destination(destination: Path, replaces: list[Path]) -> None:
    """Refuse before anything is written or removed when the batch could not be put in place without loss."""
    if not destination.exists():
        return
    if not destination.is_dir():
        raise OutputError(f"{destination} exists and is not a batch folder; move it away and run again")
    removed = set(generated_files(destination)) if destination in replaces else set()
    if destination not in replaces and (destination / MANIFEST_FILE).is_file():
        raise OutputError(f"{destination} already holds a batch; generate without --continue to replace it")
    clashes = sorted(name for name in BATCH_FILES if name not in removed and (destination / name).exists())
    if clashes:
        raise OutputError(
            f"{destination} holds {', '.join(clashes)}, not written by the generator (no manifest lists them); "
            "move them away and run again"
        )


def _make_folders(folder: Path) -> list[Path]:
    """mkdir -p that reports which folders it created, outermost first."""
    missing: list[Path] = []
    for path in [folder, *folder.parents]:
        if path.is_dir():
            break
        if path.exists() or path.is_symlink():
            raise OutputError(f"cannot write under {path}: it is not a folder")
        missing.append(path)
    created: list[Path] = []
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:
            if not path.is_dir():
                raise OutputError(f"cannot write under {path}: it is not a folder") from None
            continue
        except OSError as error:
            _remove_empty(created)
            raise OutputError(f"cannot create the folder {path}: {_reason(error)}") from error
        created.append(path)
    return created


def _remove_empty(folders: list[Path]) -> None:
    for path in reversed(folders):
        try:
            path.rmdir()
        except OSError:
            return


def stage(destination: Path, replaces: list[Path]) -> StagedBatch:
    """A staging folder for the batch to be put at `destination`; checks that it can be put there without loss."""
    _check_destination(destination, replaces)
    for batch in replaces:
        generated_files(batch)  # an unreadable manifest stops the run now, not after the simulation
    created = _make_folders(destination.parent)
    try:
        staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=destination.parent))
    except OSError as error:
        _remove_empty(created)
        raise OutputError(f"cannot write in {destination.parent}: {_reason(error)}") from error
    staged = StagedBatch(destination, staging, replaces, created)
    try:
        staged.folder.mkdir()
    except OSError as error:
        discard(staged)
        raise OutputError(f"cannot write in {staging}: {_reason(error)}") from error
    return staged


def discard(staged: StagedBatch) -> None:
    """Remove what an unfinished staging left (it is all ours) and the folders made for it, when empty."""
    if staged.committed or staged.keep_staging:
        return
    shutil.rmtree(staged.staging, ignore_errors=True)
    _remove_empty(staged.created)


def _remove_generated(batch: Path) -> list[Path]:
    """Delete the generator's files of an earlier batch (manifest first: the loader stops seeing it at once), then
    the folder if that left it empty; returns what stays."""
    names = generated_files(batch)
    for name in names:
        (batch / name).unlink(missing_ok=True)
    remaining = sorted(batch.iterdir())
    if not remaining:
        batch.rmdir()
    return remaining


def _move_into_place(staged: StagedBatch) -> None:
    if not staged.destination.exists():
        staged.folder.replace(staged.destination)
    else:
        # The destination kept files of the user: move the batch in file by file, the manifest last, so that the
        # loader sees the batch only once all its files are there.
        files = sorted(staged.folder.iterdir(), key=lambda path: (path.name == MANIFEST_FILE, path.name))
        for path in files:
            path.replace(staged.destination / path.name)
        staged.folder.rmdir()
    staged.staging.rmdir()


@contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Ctrl-C waits until the swap is done: the scenario never stays with neither its old batches nor the new one."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)
    if received:
        raise KeyboardInterrupt


def commit(staged_batches: list[StagedBatch]) -> list[str]:
    """Put every complete batch in place, removing the earlier batches it replaces; returns warnings naming what was
    kept because the generator did not write it."""
    for staged in staged_batches:
        _check_destination(staged.destination, staged.replaces)
        for batch in staged.replaces:
            generated_files(batch)
    warnings: list[str] = []
    with _interrupts_deferred():
        for staged in staged_batches:
            try:
                kept: list[Path] = []
                for batch in staged.replaces:
                    kept.extend(_remove_generated(batch))
                _move_into_place(staged)
            except OSError as error:
                staged.keep_staging = True
                raise OutputError(
                    f"could not put the batch in place at {staged.destination}: {_reason(error)} "
                    f"({error.filename}); the complete batch is in {staged.folder}"
                ) from error
            staged.committed = True
            if staged.replaces:
                kept.extend(_foreign_entries(staged))
            leftovers = [path for path in kept if path.name.startswith(STAGING_PREFIX)]
            kept = [path for path in kept if path not in leftovers]
            if kept:
                names = ", ".join(str(path.relative_to(staged.scenario_folder)) for path in kept)
                warnings.append(f"kept in {staged.scenario_folder}, as the generator did not write them: {names}")
            if leftovers:
                names = ", ".join(path.name for path in leftovers)
                warnings.append(
                    f"{staged.scenario_folder} holds what an interrupted generation left, safe to delete: {names}"
                )
    return warnings


def _foreign_entries(staged: StagedBatch) -> list[Path]:
    """What a fresh run leaves in the scenario folder besides the new batch: not written by the generator."""
    return sorted(
        path for path in staged.scenario_folder.iterdir() if path != staged.destination and path not in staged.replaces
    )
