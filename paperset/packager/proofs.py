"""Stat proofs: what the packager saw of each file of a version when it hashed it (inode, size, mtime),
kept beside the versions in `ROOT/NAME/.proofs/<version>.json` (local facts, never published). A file
whose stat still equals its proof was not rewritten since it was hashed (files are never written in place:
paperset/packager/share.py), which stands in for hashing it again (paperset/packager/manifest.py `unchanged`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PROOFS = ".proofs"


def stat_proof(path: Path) -> dict[str, int]:
    """What is kept of a file when it is hashed: its inode, size and modification time (ns)."""
    st = path.stat()
    return {"ino": st.st_ino, "bytes": st.st_size, "mtime_ns": st.st_mtime_ns}


def proofs_path(version_dir: Path) -> Path:
    return version_dir.parent / PROOFS / f"{version_dir.name}.json"


def load_proofs(version_dir: Path) -> dict[str, Any]:
    """The stat proofs of a version's files (empty when there are none: a version of an earlier release,
    a copy, a download)."""
    try:
        proofs = json.loads(proofs_path(version_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return proofs if isinstance(proofs, dict) else {}


def proven(path: Path, proof: Any, entry: dict[str, Any]) -> bool:
    """Whether `path` is, by its stat, the very file that was hashed into its manifest entry, unchanged:
    same inode, size and modification time as the proof, the size the manifest's."""
    if not isinstance(proof, dict) or proof.get("bytes") != entry.get("bytes"):
        return False
    try:
        return stat_proof(path) == proof
    except OSError:
        return False
