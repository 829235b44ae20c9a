"""The near-duplicate index: batched MinHash signatures, a compact LSH band table, candidates confirmed by
estimated Jaccard, clusters of linked papers; kept in memory or in a folder (`store.py`), or in Redis
(`redis_index.py`, datasketch's layout)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import ClassVar

import numpy as np

from paperset.crawler.dedup.bands import BandTable, band_hashes
from paperset.crawler.dedup.config import DedupeConfig
from paperset.crawler.dedup.match import DupIndex, Match
from paperset.crawler.dedup.minhash import BatchMinHasher
from paperset.crawler.dedup.shingles import ShingleHasher
from paperset.crawler.dedup.store import INDEX_FILE, IndexState, IndexUnreadable, check_state, load_state, save_state
from paperset.crawler.errors import SettingError

__all__ = ["INDEX_FILE", "DupIndex", "IndexUnreadable", "Match", "NearDupIndex", "check_store", "load_index",
           "open_index"]
logger = logging.getLogger(__name__)


class SignatureBlocks:
    """Signatures (uint32 rows) in blocks: appending never copies or regrows the rows already stored."""

    BLOCK = 1 << 16

    def __init__(self, width: int, first: np.ndarray | None = None) -> None:
        self.width = width
        self.blocks: list[np.ndarray] = [first] if first is not None and len(first) else []
        self.starts: list[int] = [0] if self.blocks else []
        self.size = len(first) if first is not None else 0

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
    """Query-then-insert near-duplicate detection for entries keyed by paper key, in memory (saved to a
    folder when it has one). A DupIndex."""

    asks_in_batches: ClassVar[bool] = False

    def __init__(self, config: DedupeConfig, path: Path | None = None, state: IndexState | None = None) -> None:
        self.config, self.path = config, path
        self.bands, self.rows = config.params
        self.shingler = ShingleHasher(config.shingle_size)
        self.hasher = BatchMinHasher(config.num_perm, config.seed)
        self.keys: list[str] = state.keys if state else []
        self.ids: dict[str, int] = {key: n for n, key in enumerate(self.keys)}
        self.signatures = SignatureBlocks(config.num_perm, state.signatures[0] if state else None)
        self.clusters: dict[int, int] = state.clusters if state else {}
        self.table = BandTable(state.runs if state else None)
        self.migrated_from = state.migrated_from if state else None
        if state and self.keys and not state.runs:  # migrated: bands rebuilt from the signatures
            for start in range(0, len(self.keys), 1 << 16):
                rows = state.signatures[0][start:start + (1 << 16)]
                self.table.add(band_hashes(rows, self.bands, self.rows), np.arange(start, start + len(rows)))

    def contains_many(self, keys: list[str]) -> list[bool]:
        return [self.contains(key) for key in keys]

    def contains(self, key: str) -> bool:
        return key in self.ids

    def cluster_of(self, key: str) -> str | None:
        head = self.clusters.get(self.ids.get(key, -1))
        return None if head is None else self.keys[head]

    def __len__(self) -> int:
        return len(self.keys)

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
        query, found = self.table.candidates(bands)
        found = found.astype(np.int64)
        keep = (found < np.asarray(limits, dtype=np.int64)[query]) & (found != own_ids[query])
        for q, other, same in self._best(active, query[keep], found[keep]):
            results[rows[q]] = Match(self.keys[other], same / self.config.num_perm)
            head = self.clusters.get(other, other)
            self.clusters[other] = self.clusters[owns[q]] = head
        return results

    def _register(self, keys: list[str], counts: list[int]) -> tuple[list[int], list[int], list[int], list[bool]]:
        """Ids for the batch's new keys; per entry with words: its row, its id, the ids it may match (those
        below its limit: the entries indexed before it), and whether it is new."""
        rows: list[int] = []
        owns: list[int] = []
        limits: list[int] = []
        new: list[bool] = []
        next_id = len(self.keys)
        for row, (key, count) in enumerate(zip(keys, counts, strict=True)):
            if not count:
                continue
            own = self.ids.get(key)
            new.append(own is None)
            if own is None:
                own = self.ids[key] = next_id
                self.keys.append(key)
                next_id += 1
            rows.append(row)
            owns.append(own)
            limits.append(own if new[-1] else next_id)
        return rows, owns, limits, new

    def _best(self, active: np.ndarray, query: np.ndarray, found: np.ndarray) -> list[tuple[int, int, int]]:
        """(row, id, equal slots) of each row's best confirmed candidate, rows ascending: the most equal
        signature slots at or above the threshold, the earliest indexed among equals."""
        pairs = np.unique((query << 32) | found)
        query, found = pairs >> 32, pairs & 0xFFFFFFFF
        equal = np.count_nonzero(active[query] == self.signatures.take(found), axis=1)
        keep = equal / self.config.num_perm >= self.config.threshold
        query, found, equal = query[keep], found[keep], equal[keep]
        order = np.lexsort((found, -equal, query))
        query, found, equal = query[order], found[order], equal[order]
        first = np.flatnonzero(np.r_[True, query[1:] != query[:-1]]) if len(query) else query
        return list(zip(query[first].tolist(), found[first].tolist(), equal[first].tolist(), strict=True))

    def save(self, path: Path | None = None) -> Path | None:
        """Write the index to `path` (default: its folder) atomically; a memory index has nowhere to go."""
        path = path or self.path
        if path is None:
            return None
        self.table.flush()
        target = save_state(path, IndexState(self.config.to_dict(), self.keys, self.signatures.parts(),
                                             self.clusters, self.table.runs))
        if self.migrated_from is not None:
            self.migrated_from.unlink(missing_ok=True)
            logger.info("near-dup index %s migrated to %s", self.migrated_from, target)
            self.migrated_from = None
        return target

    def close(self) -> None:
        self.save()


def _same_config(path: Path, saved: dict | None, config: DedupeConfig) -> None:
    now = config.to_dict()
    if saved is not None and saved != now:
        named = ", ".join(f"PAPERSET_DEDUPE_{k.upper()} = {now.get(k)!r} (the index's: {saved.get(k)!r})"
                          for k in sorted(set(saved) | set(now)) if saved.get(k) != now.get(k))
        raise SettingError(f"the index in {path} was built with {saved}, not {now}: settings {named}; "
                           "use the same PAPERSET_DEDUPE_* settings or a new index folder")


def load_index(config: DedupeConfig, path: Path) -> NearDupIndex:
    """The index saved in `path`, or a new one there; refuses one built with another configuration and
    raises IndexUnreadable (naming the file and the way out) for one that cannot be read."""
    state = load_state(path)
    _same_config(path, state and state.config, config)
    return NearDupIndex(config, path, state)


def check_store(config: DedupeConfig, store: str) -> None:
    """Before a crawl: a folder store's index is readable and of this configuration (IndexUnreadable or
    SettingError otherwise), so a bad index is one clear error instead of a crawl that cannot start."""
    if store not in ("", "memory") and not store.startswith(("redis://", "rediss://")):
        _same_config(Path(store), check_state(Path(store)), config)


def open_index(config: DedupeConfig, store: str) -> DupIndex:
    """`memory`, a folder path, or `redis://[:password@]host:port/db` (shared by every process)."""
    if store in ("", "memory"):
        return NearDupIndex(config)
    if store.startswith(("redis://", "rediss://")):
        # Imported here: redis-py, which a run without Redis does not need.
        from paperset.crawler.dedup.redis_index import RedisNearDupIndex

        return RedisNearDupIndex.connect(config, store)
    return load_index(config, Path(store))
