"""manifest.json: what a version holds (files with sha256 and size, row counts, schema fingerprints,
code version, crawl and dedupe configuration), and the check that a folder still matches it."""

from __future__ import annotations

import functools
import hashlib
import json
import subprocess
import sys
from collections.abc import Collection
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy
import pyarrow

from paperset.packager.footers import footer
from paperset.packager.proofs import load_proofs, proven
from paperset.packager.tables import TABLES, fingerprint
from paperset.spool.redact import redact

MANIFEST = "manifest.json"
# What a copy downloaded from the Hub holds besides the version (docs/hub.md, "Files the Hub adds"): the
# Hub's `.gitattributes` (every repository has one) and the `.cache/huggingface/` folder in which
# huggingface_hub keeps its bookkeeping of a download into a folder (`snapshot_download(local_dir=...)`).
# Both only at the folder's root and by exact name; never checked, never published, never deleted.
HUB_ADDED_FILES = frozenset({".gitattributes"})
HUB_ADDED_FOLDER = ".cache/huggingface/"


def hub_added(name: str) -> bool:
    """Whether `name` (a path relative to a version folder, '/'-separated) is a file the Hub or its
    download client adds, not part of the version."""
    return name in HUB_ADDED_FILES or name.startswith(HUB_ADDED_FOLDER)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def public(value: Any) -> Any:
    """`redact`, and the building machine's absolute paths cut to their last part (`<local>/spool`):
    what a published card and manifest may say about the runs."""
    if isinstance(value, str):
        value = redact(value)
        return f"<local>/{Path(value).name}" if value.startswith(("/", "~")) else value
    if isinstance(value, dict):
        return {k: public(v) for k, v in value.items()}
    if isinstance(value, list):
        return [public(v) for v in value]
    return value


# The code whose changes may change a partition's bytes: the packager and the spool it reads, but for the
# packager's modules that never shape one (the card, the Hub, locking, naming and pruning versions): editing
# the card keeps the parent's partitions. tests/packager/test_code_version.py holds that the fold's modules
# import none of them.
FOLD_CODE = ("packager", "spool")
NOT_FOLD = ("card.py", "card_facts.py", "chart.py", "croissant.py", "hub.py", "hub_pull.py", "links_card.py",
            "lock.py", "prune.py", "publish.py", "rename.py")


@functools.cache
def fold_version() -> str:
    """A digest of the code that folds spools into the tables' partitions (every Python file of FOLD_CODE but
    NOT_FOLD, by path and bytes, and the versions of pyarrow, numpy and Python): reuse.py keeps a parent's partitions
    only under the same digest. Not the commit: a new commit that leaves that code as it is (the crawler,
    the docs, the tests: every night of a checkout a CI job updates) keeps them, and an uncommitted change
    to it does not. Taken when this module is imported (below), so that a checkout updated while a crawl
    runs is not credited with code the run did not load."""
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    # The libraries that compute and encode the tables' bytes, and the Python that runs them.
    digest.update(f"pyarrow {pyarrow.__version__} numpy {numpy.__version__} python {sys.version_info[:2]}\0".encode())
    for path in sorted(p for room in FOLD_CODE for p in (package / room).rglob("*.py")
                       if not (room == "packager" and p.name in NOT_FOLD)):
        digest.update(f"{path.relative_to(package).as_posix()}\0{path.stat().st_size}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


fold_version()  # at import: the code this process loaded


@functools.cache
def code_version() -> str:
    """The git commit of the paperset checkout that packaged (a clone, an editable install), else the
    package version: an installed paperset sitting inside some other repository (a virtualenv in a
    project's folder) is not that repository's commit. Provenance: what reuse compares is `fold_version`."""
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / ".git").exists() and (checkout / "paperset" / "__init__.py").is_file():
        try:
            out = subprocess.run(["git", "rev-parse", "HEAD"],  # noqa: S607 - whichever git the PATH has
                                 cwd=checkout, capture_output=True, text=True, timeout=5, check=True)
            return out.stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    try:
        return version("paperset")
    except PackageNotFoundError:
        return "unknown"


def missing_listings(metas: list[dict]) -> list[dict[str, Any]]:
    """The listings the crawls asked for but did not get whole (the crawl's coverage report, in its
    stats), as {kind, key, reason}: recorded in the manifest and the card of a partial version."""
    return redact([{"kind": r["kind"], "key": r["key"], "reason": r["reason"]} for m in metas
                   for r in (m.get("stats") or {}).get("paperset/coverage") or []
                   if r.get("status") == "incomplete"])


def record(folder: Path, *, version: str, parent: str | None, created_at: str, rows: dict[str, int],
           recrawl_days: int, health: dict[str, Any] | None, forced: list[str],
           metas: list[dict], lineage: list[dict] | None = None,
           files: dict[str, dict[str, Any]] | None = None,
           partitions: dict[str, Any] | None = None, new_observations: int | None = None,
           daily_kinds: Collection[str] = ()) -> dict[str, Any]:
    """The manifest of the version being built in `folder`, once every other file of it is written;
    `lineage`: the earlier versions whose data it holds, with their runs (newest first); `files`: the file
    entries when already made (paperset/packager/share.py), else every file is hashed here; `partitions`: the card's
    figures by partition (paperset/packager/reuse.py); `new_observations`: the observations this version added
    to its parent's; `daily_kinds`: the listing kinds whose papers are `daily` (the population rule's)."""
    return {
        "version": version, "parent": parent, "created_at": created_at, "rows": rows,
        "new_observations": new_observations,
        "schema": {table: fingerprint(schema) for table, schema in TABLES.items()},
        "code_version": code_version(), "fold_version": fold_version(), "recrawl_days": recrawl_days,
        "daily_kinds": list(daily_kinds),
        "health": health, "forced_despite": forced, "missing_listings": missing_listings(metas),
        "runs": public([{k: m.get(k) for k in ("run_id", "base_url", "started_at", "finished_at",
                                                "listings", "settings", "dedupe")} for m in metas]),
        "lineage": public(lineage or []),
        "files": file_entries(folder) if files is None else files,
        "partitions": partitions or {},
    }


def file_entries(folder: Path) -> dict[str, dict[str, Any]]:
    """sha256 and size of every file under the folder except the manifest itself (at its root)."""
    files = {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()}
    return {name: {"sha256": sha256(p), "bytes": p.stat().st_size} for name, p in files.items() if name != MANIFEST}


def unchanged(path: Path, entry: dict[str, Any], proof: Any = None) -> bool:
    """Whether the file holds the bytes its manifest entry names: by its stat proof (paperset/packager/share.py)
    when one is given and holds, else by hashing it."""
    if proof is not None and proven(path, proof, entry):
        return True
    return path.stat().st_size == entry.get("bytes") and sha256(path) == entry.get("sha256")


def problems(folder: Path, *, full: bool = False, proofs: dict[str, Any] | None = None) -> list[str]:
    """What is wrong with a version folder: missing, changed or extra files (but for the files the Hub
    adds, `hub_added`, when the manifest does not list them), unreadable Parquet, row counts that differ
    from the manifest. Empty when it verifies. A file inherited from the parent (`inherited`) whose inode,
    size and mtime are still those recorded when it was hashed (its stat proof: `proofs`, else
    ROOT/NAME/.proofs/<version>.json) is not hashed again, unless `full`."""
    proofs = {} if full else load_proofs(folder) if proofs is None else proofs
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        return [f"manifest.json unreadable: {exc}"]
    found = []
    listed = manifest.get("files", {})
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {MANIFEST}
    for name in sorted(name for name in present - listed.keys() if not hub_added(name)):
        found.append(f"{name}: not in the manifest")
    for name, expected in sorted(listed.items()):
        path = folder / name
        if not path.is_file():
            found.append(f"{name}: missing")
        elif not unchanged(path, expected, proofs.get(name) if expected.get("inherited") else None):
            found.append(f"{name}: checksum or size differs from the manifest")
    for table, count in manifest.get("rows", {}).items():
        try:
            rows = sum(footer(p).rows for p in sorted((folder / table).glob("*.parquet")))
        except Exception as exc:
            found.append(f"{table}: unreadable Parquet ({exc})")
            continue
        if rows != count:
            found.append(f"{table}: {rows} rows, the manifest says {count}")
    return found
