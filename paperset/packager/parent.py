"""The version a new one is built on: `LATEST` read and checked (a real version folder inside the dataset),
the parent's files checked against its manifest, a version orphaned between its rename and the `LATEST`
write adopted (`.publishing` names it), and the one `LATEST` writer."""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from paperset.packager.errors import PackagerError
from paperset.packager.footers import footer
from paperset.packager.manifest import MANIFEST, problems, unchanged
from paperset.packager.proofs import load_proofs

logger = logging.getLogger(__name__)
LATEST = "LATEST"
# Names the version being renamed into place until LATEST names it: what tells a version orphaned by a
# kill in that window from one LATEST was moved away from on purpose (a rollback).
PUBLISHING = ".publishing"
# What next_version names a version: YYYY.MM.DD, then .02, .03... .99 the same day (zero-padded, so that
# names sort as text in the order they were made); names of earlier releases (.2, .10) are still read.
VERSION = re.compile(r"^\d{4}\.\d{2}\.\d{2}(?:\.\d{1,6})?$")
# Digits of the same-day counter: at most 10**SEQUENCE_DIGITS - 1 versions a day.
SEQUENCE_DIGITS = 2
# The parent's folders the packager reads (with its manifest).
READ_TABLES = ("papers", "observations")


class ParentError(PackagerError):
    """The previous version cannot be built on: nothing is published."""


def _write_synced(path: Path, version: str) -> None:
    """`version` and a newline written to `path` and synced to disk before returning."""
    with path.open("w", encoding="utf-8") as handle:
        handle.write(version + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def write_latest(folder: Path, version: str) -> None:
    """Point `folder/LATEST` at `version` atomically (a temporary file renamed over it, synced first)."""
    pointer = folder / f".{LATEST}.tmp-{os.getpid()}"
    _write_synced(pointer, version)
    pointer.replace(folder / LATEST)


def versions(dataset: Path) -> list[str]:
    """The version folders of a dataset, oldest first (by date, then by the same-day counter)."""
    found = [p.name for p in dataset.iterdir() if p.is_dir() and VERSION.match(p.name)] if dataset.is_dir() else []
    return sorted(found, key=version_order)


def version_order(version: str) -> tuple[int, ...]:
    """`2026.11.30` -> (2026, 11, 30, 1), `2026.11.30.02` (or the older `2026.11.30.2`) -> (2026, 11, 30,
    2): publishing order, also of names of both forms mixed."""
    parts = [int(p) for p in version.split(".")]
    return (*parts[:3], parts[3] if len(parts) > 3 else 1)


def read_pointer(dataset: Path) -> str | None:
    """What `LATEST` says, checked: None when there is no `LATEST`; ParentError when it does not name a
    version folder of this dataset."""
    path = dataset / LATEST
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ParentError(f"{path} is unreadable ({exc})") from None
    if not VERSION.match(text):
        raise ParentError(f"{path} does not name a version ({text[:80]!r}); write the version to build on "
                          f"into it (one of: {', '.join(versions(dataset)) or 'none'})")
    folder = dataset / text
    if not folder.is_dir() or folder.resolve().parent != dataset.resolve():
        raise ParentError(f"{path} names {text}, which is not a version folder of {dataset}")
    return text


def _manifest(folder: Path) -> dict:
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ParentError(f"{folder / MANIFEST} is missing") from None
    except (OSError, ValueError) as exc:
        raise ParentError(f"{folder / MANIFEST} is unreadable ({exc})") from None


def check_parent(folder: Path) -> None:
    """Raise ParentError naming the first file the packager reads from the parent (its manifest, the
    Parquet parts of its tables) that is missing, extra, or differs from the manifest's size, sha256 or
    row count. A file whose stat proof holds (paperset/packager/share.py: the inode, size and mtime it had when
    hashed, kept in ROOT/NAME/.proofs) is not hashed again."""
    manifest = _manifest(folder)
    listed = manifest.get("files") or {}
    proofs = load_proofs(folder)
    if not isinstance(listed, dict):
        raise ParentError(f"{folder / MANIFEST} has no file list")
    for table in READ_TABLES:
        present = {str(p.relative_to(folder)) for p in (folder / table).glob("*") if p.is_file()}
        expected = {name for name in listed if name.startswith(f"{table}/")}
        for name in sorted(expected | present):
            path = folder / name
            if name not in expected:
                raise ParentError(f"{path}: not in the parent's manifest")
            entry = listed[name]
            if not path.is_file():
                raise ParentError(f"{path}: missing (listed in the parent's manifest)")
            if not isinstance(entry, dict) or not unchanged(path, entry, proofs.get(name)):
                raise ParentError(f"{path}: checksum or size differs from the parent's manifest")
        rows = manifest.get("rows", {}).get(table)
        if rows is not None:
            counted = sum(footer(folder / name).rows
                          for name in sorted(expected) if name.endswith(".parquet"))
            if counted != rows:
                raise ParentError(f"{folder / table}: {counted} rows, the parent's manifest says {rows}")


@dataclass(frozen=True)
class CheckedParent:
    """The version a run builds on, as resolve_parent found and checked it (None: the dataset has none):
    passed down to the packager so that one run checksums its parent once."""

    version: str | None


def resolve_parent(dataset: Path) -> str | None:
    """The version to build on, checked (see module doc); None for a dataset without versions. A version
    that `.publishing` names, that verifies and whose manifest names `LATEST` as its parent was renamed
    into place by a packager killed before it moved `LATEST`: it is adopted (`LATEST` now names it)."""
    pointer = read_pointer(dataset)
    orphan = _publishing(dataset)
    if orphan is not None and orphan != pointer and (dataset / orphan).is_dir() \
            and _manifest_parent(dataset / orphan) == pointer and not problems(dataset / orphan):
        logger.warning("adopting %s: it was published but LATEST still named %s", orphan, pointer or "nothing")
        write_latest(dataset, orphan)
        pointer = orphan
    clear_publishing(dataset)
    if pointer is None and versions(dataset):
        raise ParentError(f"{dataset / LATEST} is missing but the dataset has versions "
                          f"({', '.join(versions(dataset))}); write the version to build on into it "
                          "(refusing to start over)")
    if pointer is not None:
        check_parent(dataset / pointer)
    return pointer


def mark_publishing(dataset: Path, version: str) -> None:
    """Record the version about to be renamed into place (see PUBLISHING)."""
    _write_synced(dataset / PUBLISHING, version)


def clear_publishing(dataset: Path) -> None:
    (dataset / PUBLISHING).unlink(missing_ok=True)


def _publishing(dataset: Path) -> str | None:
    try:
        text = (dataset / PUBLISHING).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text if VERSION.match(text) else None


def _manifest_parent(folder: Path) -> str | bool | None:
    """The parent a version's manifest records; False when the manifest cannot be read."""
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8")).get("parent")
    except (OSError, ValueError, AttributeError):
        return False
