"""The near-duplicate index: batched MinHash signatures, a compact LSH band table, candidates confirmed by
estimated Jaccard, clusters of linked papers; kept in memory, or in a folder of immutable segments
(`folder.py`, `disk.py`: a crawl's new entries in memory, saved as one more segment), or in Redis
(`redis_index.py`, datasketch's layout)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from paperset.crawler.dedup.bands import BandTable, band_hashes
from paperset.crawler.dedup.config import DedupeConfig
from paperset.crawler.dedup.disk import Segments
from paperset.crawler.dedup.folder import check_folder, compact, new_arrays, open_segments, save_segment
from paperset.crawler.dedup.match import DupIndex, Match
from paperset.crawler.dedup.minhash import BatchMinHasher
from paperset.crawler.dedup.shingles import ShingleHasher
from paperset.crawler.dedup.store import INDEX_FILE, IndexUnreadable
from paperset.crawler.errors import SettingError
from paperset.crawler.settings import PAPERSET_DEDUPE_MAX_SEGMENTS as MAX_SEGMENTS

__all__ = ["INDEX_FILE", "MAX_SEGMENTS", "DupIndex", "IndexUnreadable", "Match", "NearDupIndex", "check_store",
           "load_index", "open_index"]
logger = logging.getLogger(__name__)


class SignatureBlocks:
    """Signatures (uint32 rows) in blocks: appending never copies or regrows the rows already stored."""

    BLOCK = 1 << 16

    def __init__(self, width: int) -> None:
        self.width = width
        self.blocks: list[np.ndarray] = []
        self.starts: list[int] = []
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def append(self, rows: np.ndarray) -> None:
        done = 0
        while done < len(rows):
            if not self.blocks or self.size - self.starts[-1] == len(self.blocks[-1]):
                self.blocks.append(np.empty((self.BLOCK, self.width), dtype=np.uint32))
                self.starts.append(self.size)
            block, used = self.blocks[-1], self.size - self.starts[-1]
            take = min(len(block) - used, len(rows) - done)
            block[used:used + take] = rows[done:done + take]
            done += take
            self.size += take

    def take(self, ids: np.ndarray) -> np.ndarray:
        """The signatures of entries `ids`, as an (len(ids), width) array."""
        if len(self.blocks) == 1:
            return self.blocks[0][ids]
        owner = np.searchsorted(np.asarray(self.starts), ids, side="right") - 1
        out = np.empty((len(ids), self.width), dtype=np.uint32)
        for block in np.unique(owner).tolist():
            mask = owner == block
            out[mask] = self.blocks[block][ids[mask] - self.starts[block]]
        return out

    def parts(self) -> list[np.ndarray]:
        """The stored rows, block by block."""
        return [block[:min(len(block), self.size - start)] for block, start in zip(self.blocks, self.starts,
                                                                                    strict=True)]


class NearDupIndex:
    """Query-then-insert near-duplicate detection for entries keyed by paper key: the entries of a folder
    index's segments (`base`, read-only, read as questions need) and the new ones in memory, saved as one new
    segment. A DupIndex."""

    asks_in_batches: ClassVar[bool] = False

    def __init__(self, config: DedupeConfig, path: Path | None = None, base: Segments | None = None,
                 max_segments: int = MAX_SEGMENTS) -> None:
        self.config, self.path, self.max_segments = config, path, max_segments
        self.bands, self.rows = config.params
        self.shingler = ShingleHasher(config.shingle_size)
        self.hasher = BatchMinHasher(config.num_perm, config.seed)
        self._start(base or Segments([]))

    def _start(self, base: Segments) -> None:
        """Take `base` as the indexed entries; nothing new yet."""
        self.base = base
        self.keys: list[str] = []  # the new entries' keys: id base.size + n
        self.ids: dict[str, int] = {}
        self.signatures = SignatureBlocks(self.config.num_perm)
        self.clusters: dict[int, int] = {}  # cluster updates since base
        self.table = BandTable()

    def contains_many(self, keys: list[str]) -> list[bool]:
        return [self.contains(key) for key in keys]

    def _id(self, key: str) -> int | None:
        found = self.ids.get(key)
        return found if found is not None else self.base.find(key)

    def contains(self, key: str) -> bool:
        return self._id(key) is not None

    def _key(self, entry: int) -> str:
        return self.keys[entry - self.base.size] if entry >= self.base.size else self.base.key(entry)

    def _head(self, entry: int) -> int | None:
        head = self.clusters.get(entry)
        return head if head is not None or entry >= self.base.size else self.base.head(entry)

    def cluster_of(self, key: str) -> str | None:
        entry = self._id(key)
        head = None if entry is None else self._head(entry)
        return None if head is None else self._key(head)

    def __len__(self) -> int:
        return self.base.size + len(self.keys)

    def query_insert_batch(self, keys: list[str], texts: list[str]) -> list[Match | None]:
        """For each entry in order: its best confirmed match among everything indexed before it (earlier
        entries of the same batch included), then insert it. The best match has the highest estimated
        Jaccard, the earliest indexed among equals. Near copies join one cluster, named by the key of its
        earliest member. An entry without words is neither matched nor indexed; a key already indexed is
        matched again but keeps its first signature."""
        hashes, offsets = self.shingler.batch(texts)
        signatures = self.hasher.signatures(hashes, offsets)
        results: list[Match | None] = [None] * len(keys)
        rows, owns, limits, new = self._register(keys, (offsets[1:] - offsets[:-1]).tolist())
        if not rows:
            return results
        active = signatures[rows]
        bands = band_hashes(active, self.bands, self.rows)
        fresh = np.asarray(new)
        own_ids = np.asarray(owns, dtype=np.int64)
        if fresh.any():
            self.signatures.append(active[fresh])
            self.table.add(bands[fresh], own_ids[fresh])
        query, found = self._candidates(bands)
        found = found.astype(np.int64)
        keep = (found < np.asarray(limits, dtype=np.int64)[query]) & (found != own_ids[query])
        for q, other, same in self._best(active, query[keep], found[keep]):
            results[rows[q]] = Match(self._key(other), same / self.config.num_perm)
            head = self._head(other)
            head = other if head is None else head
            self.clusters[other] = self.clusters[owns[q]] = head
        return results

    def _candidates(self, bands: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if not self.base.segments:
            return self.table.candidates(bands)
        (q1, f1), (q2, f2) = self.base.candidates(bands), self.table.candidates(bands)
        return np.concatenate([q1, q2]), np.concatenate([f1, f2])

    def _register(self, keys: list[str], counts: list[int]) -> tuple[list[int], list[int], list[int], list[bool]]:
        """Ids for the batch's new keys; per entry with words: its row, its id, the ids it may match (those
        below its limit: the entries indexed before it), and whether it is new."""
        rows: list[int] = []
        owns: list[int] = []
        limits: list[int] = []
        new: list[bool] = []
        next_id = len(self)
        for row, (key, count) in enumerate(zip(keys, counts, strict=True)):
            if not count:
                continue
            own = self._id(key)
            new.append(own is None)
            if own is None:
                own = self.ids[key] = next_id
                self.keys.append(key)
                next_id += 1
            rows.append(row)
            owns.append(own)
            limits.append(own if new[-1] else next_id)
        return rows, owns, limits, new

    def _take(self, ids: np.ndarray) -> np.ndarray:
        """The signatures of entries `ids`: the base's read from its segments, the new ones from memory."""
        size = self.base.size
        if not size:
            return self.signatures.take(ids)
        out = np.empty((len(ids), self.config.num_perm), dtype=np.uint32)
        old = ids < size
        out[old] = self.base.take(ids[old])
        out[~old] = self.signatures.take(ids[~old] - size)
        return out

    def _best(self, active: np.ndarray, query: np.ndarray, found: np.ndarray) -> list[tuple[int, int, int]]:
        """(row, id, equal slots) of each row's best confirmed candidate, rows ascending: the most equal
        signature slots at or above the threshold, the earliest indexed among equals."""
        pairs = np.unique((query << 32) | found)
        query, found = pairs >> 32, pairs & 0xFFFFFFFF
        equal = np.count_nonzero(active[query] == self._take(found), axis=1)
        keep = equal / self.config.num_perm >= self.config.threshold
        query, found, equal = query[keep], found[keep], equal[keep]
        order = np.lexsort((found, -equal, query))
        query, found, equal = query[order], found[order], equal[order]
        first = np.flatnonzero(np.r_[True, query[1:] != query[:-1]]) if len(query) else query
        return list(zip(query[first].tolist(), found[first].tolist(), equal[first].tolist(), strict=True))

    def save(self, path: Path | None = None) -> Path | None:
        """Write the new entries (and cluster updates) to the index's folder as one new segment, its older
        segments untouched (compacted when they get many); a memory index has nowhere to go. Another
        `path` gets a copy of the segments first."""
        return self._save(path or self.path, reopen=True)

    def _save(self, path: Path | None, reopen: bool) -> Path | None:
        if path is None:
            return None
        if path != self.path:
            for segment in self.base.segments:
                shutil.copytree(segment.path, path / segment.path.name, dirs_exist_ok=True)
        self.table.flush()
        data = new_arrays(self.base.size, self.keys, self.signatures.parts(), self.table.runs, self.clusters)
        save_segment(path, self.config.to_dict(), data, self.base)
        compact(path, self.config.to_dict(), self.max_segments)
        if reopen and path == self.path:
            self._start(Segments.open(path))
        return path

    def close(self) -> None:
        """Save (a folder index); the index is not used after."""
        self._save(self.path, reopen=False)


def _same_config(path: Path, saved: dict | None, config: DedupeConfig) -> None:
    now = config.to_dict()
    if saved is not None and saved != now:
        named = ", ".join(f"PAPERSET_DEDUPE_{k.upper()} = {now.get(k)!r} (the index's: {saved.get(k)!r})"
                          for k in sorted(set(saved) | set(now)) if saved.get(k) != now.get(k))
        raise SettingError(f"the index in {path} was built with {saved}, not {now}: settings {named}; "
                           "use the same PAPERSET_DEDUPE_* settings or a new index folder")


def load_index(config: DedupeConfig, path: Path, max_segments: int = MAX_SEGMENTS) -> NearDupIndex:
    """The index saved in `path` (its segments opened, not read), or a new one there; refuses one built with
    another configuration and raises IndexUnreadable (naming the file and the way out) for one that
    cannot be read."""
    base = open_segments(path)
    _same_config(path, base.config, config)
    return NearDupIndex(config, path, base, max_segments)


def check_store(config: DedupeConfig, store: str, trusted: dict[str, Any] | None = None, *,
                remember: bool = False) -> None:
    """Before a crawl: a folder store's index is readable and of this configuration (IndexUnreadable or
    SettingError otherwise), so a bad index is one clear error instead of a crawl that cannot start. Every
    byte is checked but those of files proven unchanged by a stamp (`trusted`: more, name -> stat proof);
    `remember`: stamp what was read (the crawl's own store; never a published version's index)."""
    if store not in ("", "memory") and not store.startswith(("redis://", "rediss://")):
        _same_config(Path(store), check_folder(Path(store), trusted, remember=remember), config)


def open_index(config: DedupeConfig, store: str, max_segments: int = MAX_SEGMENTS) -> DupIndex:
    """`memory`, a folder path, or `redis://[:password@]host:port/db` (shared by every process)."""
    if store in ("", "memory"):
        return NearDupIndex(config)
    if store.startswith(("redis://", "rediss://")):
        # Imported here: redis-py, which a run without Redis does not need.
        from paperset.crawler.dedup.redis_index import RedisNearDupIndex

        return RedisNearDupIndex.connect(config, store)
    return load_index(config, Path(store), max_segments)
