"""Generated batches on disk: `<out>/<scenario_id>/<first_date>_<last_date>/` with a manifest.json and one CSV per
dataset, and the chains they form (a fresh batch, then the batches that continue it)."""

from __future__ import annotations

import hashlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from dataset_contract import DATASETS
from queijaria.loading.diagnosis import shown
from queijaria.loading.errors import LoadError

MANIFEST = "manifest.json"
SHA256 = re.compile(r"[0-9a-fA-F]{64}")
# A manifest lists a dozen files in a few KB; a bigger one is not a manifest, and is refused before it is read.
MANIFEST_MAX_BYTES = 1 << 20
# Rows and bytes land in bigint columns of raw.load_audit; a larger count is not a count of a file on disk.
MAX_COUNT = 2**63 - 1


@dataclass(frozen=True)
class DatasetFile:
    dataset: str
    path: Path
    rows: int
    bytes: int
    sha256: str


@dataclass(frozen=True)
class Batch:
    scenario_id: str
    name: str  # the folder name, `<first_date>_<last_date>`
    folder: Path
    first_date: str
    last_date: str
    continues: str | None
    files: dict[str, DatasetFile]
    manifest_mtime: float

    @property
    def label(self) -> str:
        return f"{self.scenario_id}/{self.name}"

    @property
    def is_fresh(self) -> bool:
        return self.continues is None

    @property
    def fingerprint(self) -> str:
        """Identity of the batch's content: the checksums of its files (what makes a second load a no-op)."""
        digest = hashlib.sha256()
        for name in sorted(self.files):
            digest.update(f"{name}={self.files[name].sha256};".encode())
        return digest.hexdigest()


def _shown_json(value: object) -> str:
    """A JSON value for a message, cut short like the values of a CSV."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:40]}... ({len(text):,} characters)"


def _dataset_file(path: Path, folder: Path, resolved_folder: Path, name: str, entry: object) -> DatasetFile:
    """One dataset's entry of the manifest: its file, confined to the batch folder, and its rows, bytes, sha256."""
    where = f"dataset {name!r}"
    if not isinstance(entry, dict):
        raise LoadError(path, f"{where}: must be an object with file, rows, bytes and sha256")
    file = entry.get("file", f"{name}.csv")
    if not isinstance(file, str) or not file.strip():
        raise LoadError(path, f"{where}: 'file' must be a file name")
    if "\0" in file:
        raise LoadError(path, f"{where}: 'file' {shown(file)} holds a NUL character, which no file name may hold")
    relative = Path(file)
    if relative.is_absolute() or ".." in relative.parts or relative.drive:
        raise LoadError(
            path, f"{where}: 'file' {shown(file)} must be a file of the batch folder (no absolute path, no ..)"
        )
    # A symlink may still lead elsewhere: the resolved file must stay inside the batch folder.
    target = folder / relative
    try:
        inside = target.resolve().is_relative_to(resolved_folder)
        target.is_file()  # a name too long for the file system fails here, not in the middle of the load
    except (OSError, RuntimeError) as error:  # RuntimeError: a symlink loop
        reason = error.strerror if isinstance(error, OSError) and error.strerror else "a symlink loop"
        raise LoadError(path, f"{where}: 'file' {shown(file)} cannot be opened ({reason})") from error
    if not inside:
        raise LoadError(path, f"{where}: 'file' {shown(file)} leads outside the batch folder")
    numbers = {}
    for key in ("rows", "bytes"):
        value = entry.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
            raise LoadError(path, f"{where}: {key!r} must be a whole number from 0 to 2^63-1, got {_shown_json(value)}")
        numbers[key] = value
    sha256 = entry.get("sha256")
    if not isinstance(sha256, str) or not SHA256.fullmatch(sha256):
        raise LoadError(path, f"{where}: 'sha256' must be 64 hexadecimal digits")
    return DatasetFile(dataset=name, path=target, rows=numbers["rows"], bytes=numbers["bytes"], sha256=sha256.lower())


def read_manifest(folder: Path) -> Batch:
    path = folder / MANIFEST
    try:
        if path.stat().st_size > MANIFEST_MAX_BYTES:
            raise LoadError(path, f"larger than {MANIFEST_MAX_BYTES >> 20} MB: not a manifest of the generator")
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise LoadError(path, "manifest not found") from error
    except json.JSONDecodeError as error:
        raise LoadError(path, f"not valid JSON: {error.msg}", line=error.lineno) from error
    except (UnicodeDecodeError, OSError) as error:
        raise LoadError(path, f"cannot be read as UTF-8 text ({error.__class__.__name__})") from error
    except RecursionError as error:
        raise LoadError(path, "not a manifest: its JSON is nested too deep to read") from error
    except ValueError as error:  # an integer of more digits than Python converts
        raise LoadError(
            path, f"not a manifest: a number in it has more than {sys.get_int_max_str_digits():,} digits"
        ) from error
    if not isinstance(data, dict):
        raise LoadError(path, "a manifest must be a JSON object")
    for key in ("scenario_id", "first_date", "last_date", "datasets"):
        if key not in data:
            raise LoadError(path, f"manifest has no {key!r}")
    for key in ("scenario_id", "first_date", "last_date"):
        if not isinstance(data[key], str):
            raise LoadError(path, f"{key!r} must be a string")
    if data["scenario_id"] != folder.parent.name:
        raise LoadError(
            path, f"scenario_id {shown(data['scenario_id'])} differs from its folder {folder.parent.name!r}"
        )
    continues = data.get("continues")
    if continues is not None and (not isinstance(continues, str) or "\0" in continues):
        raise LoadError(path, "'continues' must be a batch folder name or null")
    datasets = data["datasets"]
    if not isinstance(datasets, dict):
        raise LoadError(path, f"'datasets' must be an object with one entry per dataset, got {type(datasets).__name__}")
    files: dict[str, DatasetFile] = {}
    resolved_folder = folder.resolve()
    for dataset in DATASETS:
        if dataset.name not in datasets:
            raise LoadError(path, f"manifest lists no dataset {dataset.name!r}")
        files[dataset.name] = _dataset_file(path, folder, resolved_folder, dataset.name, datasets[dataset.name])
    return Batch(
        scenario_id=data["scenario_id"],
        name=folder.name,
        folder=folder,
        first_date=data["first_date"],
        last_date=data["last_date"],
        continues=continues,
        files=files,
        manifest_mtime=path.stat().st_mtime,
    )


def scenarios_on_disk(out: Path) -> list[str]:
    if not out.is_dir():
        raise LoadError(out, "output folder not found (run `queijaria generate` first)")
    return sorted(p.name for p in out.iterdir() if p.is_dir() and any(p.glob(f"*/{MANIFEST}")))


def batch_chain(out: Path, scenario_id: str, last_batch: str | None = None) -> tuple[list[Batch], list[str]]:
    """The chain of batches to load for a scenario, oldest first, and warnings about batches left out.

    Without `last_batch`, the chain ends at the newest batch of the newest fresh start (several fresh starts of one
    scenario happen when a scenario is regenerated with another date range); with it, at that batch.
    """
    folder = out / scenario_id
    batches = {b.name: b for b in (read_manifest(m.parent) for m in sorted(folder.glob(f"*/{MANIFEST}")))}
    if not batches:
        raise LoadError(folder, f"no batch (folder with a {MANIFEST}) for scenario {scenario_id!r}")
    children: dict[str, list[Batch]] = {}
    for batch in batches.values():
        if batch.continues is not None:
            if batch.continues not in batches:
                raise LoadError(batch.folder / MANIFEST, f"continues {batch.continues!r}, which is not in {folder}")
            children.setdefault(batch.continues, []).append(batch)
    warnings: list[str] = []
    if last_batch is not None:
        if last_batch not in batches:
            raise LoadError(folder, f"no batch {last_batch!r} (found: {', '.join(sorted(batches))})")
        chain = [batches[last_batch]]
        seen = {last_batch}
        while chain[0].continues is not None:
            earlier = batches[chain[0].continues]
            if earlier.name in seen:  # edited manifests: the walk back to the fresh batch would never end
                names = " -> ".join(batch.name for batch in [earlier, *chain])
                raise LoadError(
                    folder, f"the batches continue each other in a circle ({names}): no fresh batch starts it"
                )
            chain.insert(0, earlier)
            seen.add(earlier.name)
        return chain, warnings
    heads = sorted((b for b in batches.values() if b.is_fresh), key=lambda b: (b.manifest_mtime, b.name))
    if not heads:
        raise LoadError(folder, "no fresh batch (every manifest continues another one)")
    head = heads[-1]
    if len(heads) > 1:
        ignored = ", ".join(b.name for b in heads[:-1])
        warnings.append(f"{scenario_id}: loading the newest simulation {head.name}; ignoring older ones: {ignored}")
    chain = [head]
    while chain[-1].name in children:
        following = sorted(children[chain[-1].name], key=lambda b: (b.manifest_mtime, b.name))
        if len(following) > 1:
            warnings.append(f"{scenario_id}: several batches continue {chain[-1].name}; taking {following[-1].name}")
        chain.append(following[-1])
    return chain, warnings
