"""The single-file format of a near-dup index of before (read, never written: paperset/crawler/dedup/folder.py
migrates it to segments): one `.npz` file (a zip of `.npy` arrays, read without pickle).

`near-dup-index.npz` holds: `header` (UTF-8 JSON: format name and version, the DedupeConfig, the
number of entries and band-table runs), `signatures` (entries x num_perm uint32, in insertion
order), `key_bytes` + `key_ends` (the keys, UTF-8, concatenated; entry i is
`key_bytes[key_ends[i-1]:key_ends[i]]`), `cluster_members` + `cluster_heads` (uint32 entry ids: member
i belongs to the cluster named by entry `cluster_heads[i]`), and for each band-table run r
`band_hashes_r` (uint64, sorted) + `band_ids_r` (uint32). Any file that
cannot be read (truncated, corrupt, another format, an old pickled `near-dup-index.pkl`) raises
IndexUnreadable naming the file and what to do.
"""

from __future__ import annotations

import json
import pickle
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from paperset.crawler.errors import IndexUnreadable

INDEX_FILE = "near-dup-index.npz"
OLD_INDEX_FILE = "near-dup-index.pkl"
FORMAT = "paperset-near-dup-index"
VERSION = 1
WAY_OUT = ("restore the folder from the dedupe-index/ copy in the newest published version of the dataset "
           "(ROOT/NAME/<version>/dedupe-index), or delete it to start an empty index (near copies of "
           "papers indexed before are then not linked)")


@dataclass
class IndexState:
    """Everything a folder index holds, as plain arrays and lists."""

    config: dict[str, Any]
    keys: list[str]
    signatures: list[np.ndarray]  # row blocks, in insertion order (one block when loaded)
    clusters: dict[int, int] = field(default_factory=dict)
    runs: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    migrated_from: Path | None = None


def check_state(path: Path) -> dict[str, Any] | None:
    """The header of the index saved in `path` after checking every byte of it (the zip's CRCs), or None
    when there is none; IndexUnreadable when it cannot be read. Cheap next to a crawl: one read."""
    file = path / INDEX_FILE
    if not file.exists():
        old = path / OLD_INDEX_FILE
        return _migrate(old).config if old.exists() else None
    try:
        with zipfile.ZipFile(file) as archive:
            broken = archive.testzip()
            if broken is not None:
                raise ValueError(f"{broken} is corrupt (CRC mismatch)")
        with np.load(file, allow_pickle=False) as data:
            header = json.loads(bytes(data["header"]).decode())
        if header.get("format") != FORMAT or header.get("version") != VERSION:
            raise ValueError(f"not a {FORMAT} version {VERSION} file")
    except (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        raise IndexUnreadable(f"the near-dup index {file} cannot be read ({type(exc).__name__}: {exc}): "
                              f"{WAY_OUT}") from None
    return header["config"]


def load_state(path: Path) -> IndexState | None:
    """The state saved in `path`, or None when there is none; IndexUnreadable when it cannot be read."""
    file = path / INDEX_FILE
    if not file.exists():
        old = path / OLD_INDEX_FILE
        return _migrate(old) if old.exists() else None
    try:
        with np.load(file, allow_pickle=False) as data:
            header = json.loads(bytes(data["header"]).decode())
            if header.get("format") != FORMAT or header.get("version") != VERSION:
                raise ValueError(f"not a {FORMAT} version {VERSION} file")
            key_bytes, ends = bytes(data["key_bytes"]), data["key_ends"].tolist()
            keys = [key_bytes[start:end].decode("utf-8", "surrogatepass")
                    for start, end in zip([0, *ends], ends, strict=False)]
            signatures = data["signatures"]
            runs = [(data[f"band_hashes_{n}"], data[f"band_ids_{n}"]) for n in range(int(header["runs"]))]
            clusters = dict(zip(data["cluster_members"].tolist(), data["cluster_heads"].tolist(), strict=True))
    except (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        raise IndexUnreadable(f"the near-dup index {file} cannot be read ({type(exc).__name__}: {exc}): "
                              f"{WAY_OUT}") from None
    if len(keys) != header["entries"] or signatures.shape[0] != len(keys) or signatures.dtype != np.uint32 \
            or sum(len(h) for h, _ in runs) != len(keys) * int(header["config"]["bands"]):
        raise IndexUnreadable(f"the near-dup index {file} is inconsistent (its arrays disagree on the number "
                              f"of entries): {WAY_OUT}")
    return IndexState(header["config"], keys, [signatures], clusters, runs)


def _migrate(old: Path) -> IndexState:
    """The state of an index saved by paperset 0.1 (a pickle of datasketch's MinHashLSH and two dicts);
    the band table is rebuilt from the signatures, and the next save replaces the file."""
    try:
        with old.open("rb") as data:
            state = pickle.load(data)  # noqa: S301 - our own file, written by paperset 0.1's save()
        keys = list(state["signatures"])
        width = int(state["config"]["num_perm"])
        signatures = np.array([np.asarray(state["signatures"][k], dtype=np.uint32) for k in keys],
                              dtype=np.uint32).reshape(len(keys), width)
        ids = {key: n for n, key in enumerate(keys)}
        clusters = {ids[member]: ids[head] for member, head in state["clusters"].items()}
        config = dict(state["config"])
    except Exception as exc:  # an unpickling failure can raise nearly anything: all mean "unreadable"
        raise IndexUnreadable(f"the near-dup index {old} (old pickle format) cannot be read "
                              f"({type(exc).__name__}: {exc}): {WAY_OUT}") from None
    return IndexState(config, keys, [signatures], clusters, [], migrated_from=old)
