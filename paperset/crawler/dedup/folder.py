"""A folder near-dup index on disk: its segments opened (an index of the single-file format of before,
`near-dup-index.npz` or the pickled `.pkl`, read whole once and rewritten as one segment), a crawl's new
entries saved as one new segment, and compaction: when the folder holds more than
PAPERSET_DEDUPE_MAX_SEGMENTS segments, the newest ones are merged (log-structured: while the merged
entries are at least half the next older segment's, or the count is still over), so a night writes its
own entries and, now and then, a merge of the recent nights, never the whole index again."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from paperset.crawler.dedup.bands import band_hashes
from paperset.crawler.dedup.disk import Segment, Segments, chain, check, next_serial, stamp, stamp_segment
from paperset.crawler.dedup.segments import SegmentArrays, key_hashes, write_segment
from paperset.crawler.dedup.store import INDEX_FILE, OLD_INDEX_FILE, IndexState, check_state, load_state

logger = logging.getLogger(__name__)

_EMPTY32 = np.empty(0, dtype=np.uint32)


def sorted_bands(runs: list[tuple[np.ndarray, np.ndarray]], presorted: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """One sorted (hashes, ids) table from runs (each sorted already, unless told otherwise)."""
    if len(runs) == 1 and presorted:
        return np.asarray(runs[0][0], dtype=np.uint64), np.asarray(runs[0][1], dtype=np.uint32)
    hashes = np.concatenate([h for h, _ in runs]) if runs else np.empty(0, dtype=np.uint64)
    ids = np.concatenate([i for _, i in runs]) if runs else _EMPTY32
    order = np.argsort(hashes, kind="stable")
    return hashes[order], ids[order].astype(np.uint32)


def new_arrays(start: int, keys: list[str], signatures: list[np.ndarray], runs: list[tuple[np.ndarray, np.ndarray]],
               clusters: dict[int, int]) -> SegmentArrays:
    """A segment of new entries `start..` with their band runs and the cluster updates."""
    encoded = [key.encode("utf-8", "surrogatepass") for key in keys]
    members = np.fromiter(sorted(clusters), dtype=np.uint32, count=len(clusters))
    heads = np.fromiter((clusters[m] for m in sorted(clusters)), dtype=np.uint32, count=len(clusters))
    hashes, ids = sorted_bands(runs)
    return SegmentArrays(start, np.frombuffer(b"".join(encoded), dtype=np.uint8),
                         np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))),
                         key_hashes(keys), signatures, hashes, ids, members, heads)


def _migrate(folder: Path, state: IndexState) -> None:
    """Rewrite an index of the single-file format as the folder's first segment, then remove the file."""
    bands, rows = int(state.config["bands"]), int(state.config["rows"])
    runs = state.runs
    if not runs and state.keys:  # the pickled format kept no band table: rebuilt from the signatures
        signatures = state.signatures[0]
        runs = [sorted_bands([(band_hashes(signatures[s:s + (1 << 16)], bands, rows).ravel(),
                               np.repeat(np.arange(s, min(s + (1 << 16), len(signatures)), dtype=np.uint32), bands))
                              for s in range(0, len(signatures), 1 << 16)], presorted=False)]
    segment = write_segment(folder, state.config, new_arrays(0, state.keys, state.signatures, runs, state.clusters),
                            next_serial(folder))
    stamp_segment(folder, segment)
    old = state.migrated_from or folder / INDEX_FILE
    old.unlink(missing_ok=True)
    logger.info("near-dup index %s migrated to %s", old, segment)


def open_segments(folder: Path) -> Segments:
    """The folder's segments, opened (paperset/crawler/dedup/column.py: nothing read yet), after checking the bytes
    of those not stamped as checked (by this index's own writes or the version it was linked from:
    paperset/crawler/dedup/disk.py); an index of the single-file format is migrated first."""
    if not folder.is_dir():
        return Segments([])
    if not chain(folder)[0]:
        state = load_state(folder)
        if state is not None:
            _migrate(folder, state)
    return check(folder, remember=True)


def check_folder(folder: Path, trusted: dict[str, Any] | None = None, *,
                 remember: bool = False) -> dict[str, Any] | None:
    """The config of the folder's index after checking every byte not proven by a stamp (segments) or the
    single file's CRCs (the format of before), None without an index; IndexUnreadable otherwise."""
    if folder.is_dir() and chain(folder)[0]:
        return check(folder, trusted, remember=remember).config
    return check_state(folder)


def save_segment(folder: Path, config: dict[str, Any], data: SegmentArrays, base: Segments) -> None:
    """Write the crawl's segment (when it holds entries; cluster updates alone rewrite the newest segment
    with them), remove what the single-file format or a killed compaction left, and compact."""
    serial = next_serial(folder)
    if not len(data.key_ends):
        if not len(data.cluster_members) or not base.segments:
            return
        data = merge([base.segments[-1]], data)
    stamp_segment(folder, write_segment(folder, config, data, serial))
    for leftover in (folder / INDEX_FILE, folder / OLD_INDEX_FILE):
        leftover.unlink(missing_ok=True)
    for covered in chain(folder)[1]:
        shutil.rmtree(covered, ignore_errors=True)
    for killed in folder.glob(".seg-*.tmp-*"):  # a killed save's (one crawl writes a folder at a time)
        shutil.rmtree(killed, ignore_errors=True)
    stamp(folder, {})  # the stamps of the files just removed dropped


def merge(segments: list[Segment], newer: SegmentArrays | None = None) -> SegmentArrays:
    """One segment's arrays from consecutive segments (and newer cluster updates), the newer update of an
    entry's cluster winning; read into memory (only the merged segments: the newest, small ones, or all of a
    small index)."""
    parts = [s.arrays() for s in segments]
    offsets = np.cumsum([0] + [len(p["key_bytes"]) for p in parts])
    hashes = []
    for p in parts:
        in_order = np.empty(len(p["key_hashes"]), dtype=np.uint64)
        in_order[np.asarray(p["key_order"])] = p["key_hashes"]
        hashes.append(in_order)
    members = [np.asarray(p["cluster_members"]) for p in parts]
    heads = [np.asarray(p["cluster_heads"]) for p in parts]
    if newer is not None:
        members.append(newer.cluster_members)
        heads.append(newer.cluster_heads)
    members_all, heads_all = np.concatenate(members), np.concatenate(heads)
    last = len(members_all) - 1 - np.unique(members_all[::-1], return_index=True)[1]  # the newest of each
    bands = sorted_bands([(p["band_hashes"], p["band_ids"]) for p in parts])
    return SegmentArrays(segments[0].start, np.concatenate([p["key_bytes"] for p in parts]),
                         np.concatenate([p["key_ends"] + offsets[n] for n, p in enumerate(parts)]),
                         np.concatenate(hashes), [p["signatures"] for p in parts], *bands,
                         members_all[last], heads_all[last])


def compact(folder: Path, config: dict[str, Any], max_segments: int) -> bool:
    """Merge the newest segments when the folder holds more than `max_segments`; whether it did."""
    if len(chain(folder)[0]) <= max_segments:
        return False
    segments = Segments.open(folder).segments
    sizes = [s.end - s.start for s in segments]
    first, total = len(segments) - 2, sizes[-1] + sizes[-2]
    while first > 0 and (2 * total >= sizes[first - 1] or first >= max_segments):
        first -= 1
        total += sizes[first]
    merged = merge(segments[first:])
    stamp_segment(folder, write_segment(folder, config, merged, next_serial(folder)))
    for segment in segments[first:]:
        shutil.rmtree(segment.path, ignore_errors=True)
    logger.info("near-dup index %s: %d segments merged into one", folder, len(segments) - first)
    return True
