"""Versions share what did not change: a file of the new version whose bytes equal the parent's file of the
same name becomes a hard link to it (same inode, no new bytes), else stays the copy just written; its
manifest entry says `inherited` (the parent's name). What the packager saw of each file when it hashed it
(inode, size, mtime) is kept beside the versions, in `ROOT/NAME/.proofs/<version>.json` (local facts,
never published): a stat proof (the same inode, size and mtime) shows the file was not rewritten since it
was hashed, since files are never written in place (a change makes a new file; published files are
read-only). It stands in for re-hashing a file a version inherited."""

from __future__ import annotations

import json
import os
import shutil
import stat as stat_module
from pathlib import Path
from typing import Any

from paperset.packager.links_schema import LINK_TABLES
from paperset.packager.manifest import MANIFEST, sha256
from paperset.packager.proofs import load_proofs, proven, stat_proof

# Folders whose files are made read-only once written: what versions share.
SHARED = ("papers", "observations", "changes", "dedupe-index", "stats", *LINK_TABLES)


def link_or_copy(source: Path, target: Path) -> bool:
    """Make `target` a hard link to `source` (replacing what `target` holds); False, and `target` kept as
    it is, where the file system refuses links (another device, no link support)."""
    if target.exists() and target.samefile(source):
        return True  # linked already: a rename onto the same inode would do nothing and leave the temporary
    temporary = target.with_name(f".{target.name}.link-{os.getpid()}")
    try:
        os.link(source, temporary)
    except OSError:
        return False
    temporary.replace(target)
    return True


def _link_or_copy2(source: str, target: str) -> str:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
    return target


def copy_linked(source: Path, target: Path) -> None:
    """A folder copied as hard links where the file system allows (copies elsewhere), hidden files (a
    killed save's temporary files) left out: for folders whose files are only ever replaced, never
    written in place (the near-dup index: paperset/crawler/dedup/store.py saves by rename)."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".*"), copy_function=_link_or_copy2)


def parent_files(parent: Path | None) -> dict[str, dict[str, Any]]:
    if parent is None:
        return {}
    try:
        files = json.loads((parent / MANIFEST).read_text(encoding="utf-8")).get("files") or {}
    except (OSError, ValueError, AttributeError):
        return {}
    return files if isinstance(files, dict) else {}


def _same(parent: Path, name: str, path: Path, old: dict[str, Any] | None, proof: Any, digest: str,
          size: int) -> bool:
    """Whether the parent's file `name` is listed with these bytes and still holds them (the very file just
    hashed, when `path` is a link to it: not hashed again)."""
    if not old or old.get("sha256") != digest or old.get("bytes") != size:
        return False
    source = parent / name
    return source.is_file() and (proven(source, proof, old) or path.samefile(source) or sha256(source) == digest)


def _linked(parent: Path, name: str, path: Path, old: dict[str, Any] | None, proof: Any) -> dict[str, Any] | None:
    """The parent's entry for a file already linked to the parent's (paperset/packager/reuse.py) and proven by its
    stat: taken without hashing."""
    source = parent / name
    if old and source.is_file() and path.samefile(source) and proven(source, proof, old):
        return {"sha256": old["sha256"], "bytes": old["bytes"]}
    return None


def share(folder: Path, parent: Path | None) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The manifest's file entries of the version built in `folder` (every file but the manifest) and
    their stat proofs, each file hashed once (a file already linked to the parent's, proven by its stat,
    not at all); files equal to the parent's of the same name are `inherited`, hard-linked to it where the
    file system allows. The shared folders' files are made read-only."""
    listed = parent_files(parent)
    parent_proofs = load_proofs(parent) if parent is not None else {}
    entries: dict[str, dict[str, Any]] = {}
    proofs: dict[str, Any] = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if not path.is_file() or name == MANIFEST:
            continue
        old, proof = listed.get(name), parent_proofs.get(name)
        entry = _linked(parent, name, path, old, proof) if parent is not None else None
        if entry is None:
            digest, size = sha256(path), path.stat().st_size
            entry = {"sha256": digest, "bytes": size}
            if parent is not None and _same(parent, name, path, old, proof, digest, size):
                link_or_copy(parent / name, path)
                entry["inherited"] = parent.name
        else:
            entry["inherited"] = parent.name  # type: ignore[union-attr]
        if name.split("/")[0] in SHARED:
            path.chmod(stat_module.S_IMODE(path.stat().st_mode) & ~0o222)
        proofs[name] = stat_proof(path)
        entries[name] = entry
    return entries, proofs
