"""Versions share what did not change: a file of the new version whose bytes equal the parent's file of the
same name becomes a hard link to it (same inode, no new bytes), else stays the copy just written; every
file's manifest entry records its sha256, size and the stat (inode, mtime) it had when hashed, and
`inherited` names the version it was linked from. A stat proof (same inode, size and mtime as recorded)
shows the file was not rewritten since it was hashed: files are never written in place (a change makes a
new file, published files are read-only), so it stands in for re-hashing a file a version inherited."""

from __future__ import annotations

import json
import os
import stat as stat_module
from pathlib import Path
from typing import Any

from packager.manifest import MANIFEST, sha256

# Folders whose files are made read-only once written: what versions share.
SHARED = ("papers", "observations", "changes", "dedupe-index")


def stat_proof(path: Path) -> dict[str, int]:
    """What a manifest records of a file when it is hashed: its inode and modification time (ns)."""
    st = path.stat()
    return {"ino": st.st_ino, "mtime_ns": st.st_mtime_ns}


def proven(path: Path, entry: dict[str, Any]) -> bool:
    """Whether `path` is, by its stat, the very file its manifest entry was hashed from, unchanged: same
    inode, size and modification time as recorded (False for entries without a stat, from earlier
    releases, and for a copy elsewhere: those are re-hashed)."""
    proof = entry.get("stat")
    if not isinstance(proof, dict):
        return False
    try:
        st = path.stat()
    except OSError:
        return False
    return (st.st_ino, st.st_size, st.st_mtime_ns) == (proof.get("ino"), entry.get("bytes"), proof.get("mtime_ns"))


def link_or_copy(source: Path, target: Path) -> bool:
    """Make `target` a hard link to `source` (replacing what `target` holds); False, and `target` kept as
    it is, where the file system refuses links (another device, no link support)."""
    temporary = target.with_name(f".{target.name}.link-{os.getpid()}")
    try:
        os.link(source, temporary)
    except OSError:
        return False
    temporary.replace(target)
    return True


def parent_files(parent: Path | None) -> dict[str, dict[str, Any]]:
    if parent is None:
        return {}
    try:
        files = json.loads((parent / MANIFEST).read_text(encoding="utf-8")).get("files") or {}
    except (OSError, ValueError, AttributeError):
        return {}
    return files if isinstance(files, dict) else {}


def _same(parent: Path, name: str, old: dict[str, Any] | None, digest: str, size: int) -> bool:
    """Whether the parent's file `name` is listed with these bytes and still holds them."""
    if not old or old.get("sha256") != digest or old.get("bytes") != size:
        return False
    path = parent / name
    return path.is_file() and (proven(path, old) or sha256(path) == digest)


def _linked(parent: Path, name: str, path: Path, old: dict[str, Any] | None) -> dict[str, Any] | None:
    """The parent's entry for a file already linked to the parent's (packager/reuse.py) and proven by its
    stat: taken without hashing."""
    source = parent / name
    if old and source.is_file() and path.samefile(source) and proven(source, old):
        return {"sha256": old["sha256"], "bytes": old["bytes"]}
    return None


def share(folder: Path, parent: Path | None) -> dict[str, dict[str, Any]]:
    """The manifest's file entries of the version built in `folder` (every file but the manifest), each
    file hashed once (a file already linked to the parent's, proven by its stat, not at all); files equal
    to the parent's of the same name hard-linked to them (`inherited`). The shared folders' files are made
    read-only."""
    listed = parent_files(parent)
    entries: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if not path.is_file() or name == MANIFEST:
            continue
        entry = _linked(parent, name, path, listed.get(name)) if parent is not None else None
        if entry is not None:
            entry["inherited"] = parent.name  # type: ignore[union-attr]
        else:
            digest, size = sha256(path), path.stat().st_size
            entry = {"sha256": digest, "bytes": size}
            if parent is not None and _same(parent, name, listed.get(name), digest, size) \
                    and link_or_copy(parent / name, path):
                entry["inherited"] = parent.name
        if name.split("/")[0] in SHARED:
            path.chmod(stat_module.S_IMODE(path.stat().st_mode) & ~0o222)
        entry["stat"] = stat_proof(path)
        entries[name] = entry
    return entries
