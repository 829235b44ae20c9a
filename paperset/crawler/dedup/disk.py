"""The segments of a folder near-dup index (paperset/crawler/dedup/segments.py) as one read-only view: which entry a
key is (a search in each segment's sorted key hashes, no dict of every key), an entry's key, signature and
cluster head, and the band candidates of a batch; nothing of a segment is read but what a question needs
(paperset/crawler/dedup/column.py: the blocks of sorted arrays that may hold the values asked, the rows asked).

The folder's segments are the chain `seg-0-a`, `seg-a-b`, ... from entry 0; a segment that another one
covers (what a compaction killed before removing its inputs left) is passed over. Checking every byte
(`check`) compares each array file with its header's CRC-32, except the files whose stat (inode, size,
mtime) equals a stamp: one the index wrote itself (`.checked.json`), or the packager's stat proof of the
version the folder was linked from.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from paperset.crawler.dedup.bands import BandTable
from paperset.crawler.dedup.column import Column, Sorted
from paperset.crawler.dedup.segments import ARRAYS, HEADER, NAME, file_crc, key_hashes, read_header, unreadable

CHECKED = ".checked.json"


class Segment:
    """One segment, opened: its columns' headers checked, the fences of its sorted arrays in memory,
    nothing else read."""

    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self.path, self.header = path, header
        self.start, self.end = int(header["start"]), int(header["end"])
        self.columns = {key: self._column(key, dtype) for key, dtype in ARRAYS.items()}
        c = self.columns
        try:
            self.keys = Sorted(c["key_hashes"], c["key_fences"].whole())
            self.bands = Sorted(c["band_hashes"], c["band_fences"].whole())
            self.members = Sorted(c["cluster_members"], c["cluster_fences"].whole())
        except (OSError, ValueError) as exc:
            raise unreadable(path / HEADER, exc) from None
        n = self.end - self.start
        if (len(c["signatures"]) != n or len(c["key_ends"]) != n or len(c["key_order"]) != n
                or len(c["band_ids"]) != len(self.bands) or len(c["cluster_heads"]) != len(self.members)
                or c["signatures"].shape[1:] != (int(header["config"]["num_perm"]),)
                or len(self.bands) != n * int(header["config"]["bands"])):
            raise unreadable(path / HEADER, "its arrays disagree on the number of entries")

    def _column(self, key: str, dtype: Any) -> Column:
        file = self.path / f"{key}.npy"
        try:
            return Column(file, dtype, self.header["files"][f"{key}.npy"]["bytes"])
        except (OSError, EOFError, ValueError, TypeError) as exc:
            raise unreadable(file, exc) from None

    @classmethod
    def open(cls, path: Path) -> Segment:
        return cls(path, read_header(path))

    def key(self, local: int) -> str:
        ends = self.columns["key_ends"].read(local - 1, local + 1) if local else self.columns["key_ends"].read(0, 1)
        start, end = (int(ends[0]), int(ends[1])) if local else (0, int(ends[0]))
        return bytes(self.columns["key_bytes"].read(start, end)).decode("utf-8", "surrogatepass")

    def find(self, key: str, hashed: int) -> int | None:
        """The global id of `key` in this segment, or None."""
        values, positions, _ = self.keys.find(np.asarray([hashed], dtype=np.uint64))
        for at in positions[values == np.uint64(hashed)].tolist():
            local = int(self.columns["key_order"].read(at, at + 1)[0])
            if self.key(local) == key:
                return self.start + local
        return None

    def head(self, entry: int) -> int | None:
        values, positions, _ = self.members.find(np.asarray([entry], dtype=np.uint32))
        found = positions[values == entry]
        return int(self.columns["cluster_heads"].read(int(found[0]), int(found[0]) + 1)[0]) if len(found) else None

    def candidates(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(query rows, ids) of this segment's entries sharing a band hash with row i of `hashes` (n, bands):
        only the blocks of the band table that may hold them are read."""
        values, _, ranges = self.bands.find(np.unique(hashes.ravel()))
        ids = np.concatenate([self.columns["band_ids"].read(start, stop) for start, stop in ranges]) if ranges \
            else np.empty(0, dtype=np.uint32)
        return BandTable([(values, ids)]).candidates(hashes)

    def arrays(self) -> dict[str, np.ndarray]:
        """Every array, read whole (a compaction's inputs: the newest, small segments)."""
        return {key: column.whole() for key, column in self.columns.items()}


def chain(folder: Path) -> tuple[list[Path], list[Path]]:
    """(the folder's live segment folders from entry 0 on, each starting where the last ended; those covered
    by a segment of a higher serial: what a compaction killed before removing its inputs left).
    IndexUnreadable when the live ones leave a gap."""
    if not folder.is_dir():
        return [], []
    found = [(int(m[1]), int(m[2]), int(m[3]), p) for p in folder.iterdir() if (m := NAME.match(p.name))]
    live = sorted(f for f in found if not any(o[2] > f[2] and o[0] <= f[0] and f[1] <= o[1] for o in found))
    end = 0
    for start, stop, _, path in live:
        if start != end:
            raise unreadable(path, f"entries {end}..{start} are in no segment")
        end = stop
    return [f[3] for f in live], [f[3] for f in found if f not in live]


def next_serial(folder: Path) -> int:
    """One more than the highest serial of the folder's segments."""
    serials = [int(m[3]) for p in folder.iterdir() if (m := NAME.match(p.name))] if folder.is_dir() else []
    return max(serials, default=0) + 1


class Segments:
    """The read-only entries of a folder index: ids 0..size-1, in its segments' order."""

    def __init__(self, segments: list[Segment]) -> None:
        self.segments = segments
        self.size = segments[-1].end if segments else 0
        self.starts = np.asarray([s.start for s in segments], dtype=np.int64)

    @classmethod
    def open(cls, folder: Path) -> Segments:
        return cls([Segment.open(path) for path in chain(folder)[0]] if folder.is_dir() else [])

    @property
    def config(self) -> dict[str, Any] | None:
        return self.segments[0].header["config"] if self.segments else None

    def find(self, key: str) -> int | None:
        if not self.segments:
            return None
        hashed = int(key_hashes([key])[0])
        for segment in self.segments:
            found = segment.find(key, hashed)
            if found is not None:
                return found
        return None

    def _owner(self, entry: int) -> Segment:
        return self.segments[int(np.searchsorted(self.starts, entry, side="right")) - 1]

    def key(self, entry: int) -> str:
        segment = self._owner(entry)
        return segment.key(entry - segment.start)

    def head(self, entry: int) -> int | None:
        """The cluster head of `entry` by the newest segment that names one."""
        for segment in reversed(self.segments):
            found = segment.head(entry)
            if found is not None:
                return found
        return None

    def take(self, ids: np.ndarray) -> np.ndarray:
        """The signatures of entries `ids` (all below size), read from their segments' files."""
        width = self.segments[0].columns["signatures"].shape[1] if self.segments else 0
        out = np.empty((len(ids), width), dtype=np.uint32)
        owner = np.searchsorted(self.starts, ids, side="right") - 1
        for n in np.unique(owner).tolist():
            mask = owner == n
            segment = self.segments[n]
            out[mask] = segment.columns["signatures"].rows(ids[mask] - segment.start)
        return out

    def candidates(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(query rows, ids) of every entry sharing a band hash with row i of `hashes` (n, bands)."""
        found = [segment.candidates(hashes) for segment in self.segments]
        if not found:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.uint32)
        return np.concatenate([q for q, _ in found]), np.concatenate([i for _, i in found])


def _stamps(folder: Path) -> dict[str, Any]:
    try:
        stamps = json.loads((folder / CHECKED).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return stamps if isinstance(stamps, dict) else {}


def _stat(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"ino": st.st_ino, "bytes": st.st_size, "mtime_ns": st.st_mtime_ns}


def stamp(folder: Path, stamps: dict[str, Any]) -> None:
    """Record files of `folder` (relative name -> stat proof) as checked, beside the stamps there already
    (those of files gone, a compaction's inputs, dropped)."""
    merged = {name: proof for name, proof in {**_stamps(folder), **stamps}.items() if (folder / name).exists()}
    tmp = folder / f"{CHECKED}.tmp-{os.getpid()}"
    tmp.write_text(json.dumps(merged, sort_keys=True), encoding="utf-8")
    tmp.replace(folder / CHECKED)


def stamp_segment(folder: Path, segment: Path) -> None:
    """Stamp the files of a segment this process has just written (their CRCs computed as written)."""
    stamp(folder, {f"{segment.name}/{f.name}": _stat(f) for f in segment.iterdir()})


def check(folder: Path, trusted: dict[str, Any] | None = None, *, remember: bool = False) -> Segments:
    """The folder's segments after checking every byte of them not stamped (`trusted`: more stat proofs,
    relative name -> proof); IndexUnreadable naming a bad file. `remember`: stamp the files read (only in a
    folder the index writes: a run's, never a published version's)."""
    segments = Segments.open(folder)
    own = _stamps(folder)
    stamps = {**own, **(trusted or {})}
    proven: dict[str, Any] = {}
    for segment in segments.segments:
        if segment.header["config"] != segments.config:
            raise unreadable(segment.path / HEADER, "built with another configuration than the first segment")
        for name, facts in segment.header["files"].items():
            file, relative = segment.path / name, f"{segment.path.name}/{name}"
            proof = _stat(file)
            if stamps.get(relative) == proof:
                continue
            if file_crc(file) != facts["crc32"]:
                raise unreadable(file, "ValueError: its CRC-32 does not match its header (corrupt)")
            proven[relative] = proof
    if proven and remember:  # read once: the next open (the crawl's, after the pre-run check) reads none of it again
        with contextlib.suppress(OSError):  # a folder this process may not write is checked again next time
            stamp(folder, proven)
    return segments
