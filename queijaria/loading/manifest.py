"""Generated batches on disk: `<out>/<scenario_id>/<first_date>_<last_date>/` with a manifest.json and one CSV per
dataset, and the chains they form (a fresh batch, then the batches that continue it)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from queijaria.datasets import DATASETS
from queijaria.loading.errors import LoadError

MANIFEST = "manifest.json"


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


def read_manifest(folder: Path) -> Batch:
    path = folder / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise LoadError(path, "manifest not found") from error
    except json.JSONDecodeError as error:
        raise LoadError(path, f"not valid JSON: {error.msg}", line=error.lineno) from error
    for key in ("scenario_id", "first_date", "last_date", "datasets"):
        if key not in data:
            raise LoadError(path, f"manifest has no {key!r}")
    if data["scenario_id"] != folder.parent.name:
        raise LoadError(path, f"scenario_id {data['scenario_id']!r} differs from its folder {folder.parent.name!r}")
    files: dict[str, DatasetFile] = {}
    for dataset in DATASETS:
        entry = data["datasets"].get(dataset.name)
        if entry is None:
            raise LoadError(path, f"manifest lists no dataset {dataset.name!r}")
        try:
            files[dataset.name] = DatasetFile(
                dataset=dataset.name,
                path=folder / entry.get("file", f"{dataset.name}.csv"),
                rows=int(entry["rows"]),
                bytes=int(entry["bytes"]),
                sha256=str(entry["sha256"]).lower(),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise LoadError(path, f"dataset {dataset.name!r}: needs rows, bytes and sha256 ({error})") from error
    return Batch(
        scenario_id=data["scenario_id"],
        name=folder.name,
        folder=folder,
        first_date=str(data["first_date"]),
        last_date=str(data["last_date"]),
        continues=data.get("continues"),
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
        while chain[0].continues is not None:
            chain.insert(0, batches[chain[0].continues])
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
