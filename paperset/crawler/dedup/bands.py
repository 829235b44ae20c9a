"""The LSH band table: 64-bit band hashes with the ids of the entries that have them, as sorted numpy runs.

Each signature is cut into `bands` bands of `rows` slots (datasketch's `hashranges`); a band is reduced
to one 64-bit hash (its slots packed by a linear map with odd 64-bit multipliers, the band number mixed
in, then MurmurHash3's 64-bit finalizer), so the bands of all entries live in one flat table instead of
datasketch's dict of sets per band (about 12 bytes a band instead of about 180). Two entries are
candidates when they share one band hash. A spurious 64-bit collision can only add a candidate, which
must still pass the estimated-Jaccard check; it never hides one.

The table is a few sorted runs (hash, id), newest last, merged like a log-structured merge tree: a
batch becomes a run, and the last two runs are merged while the newer is at least half the older, so
there are about log2(entries / batch) runs, each entry is copied about as often, and a batch of one
costs a few small searches. Within a run equal hashes keep ids ascending (older entries first).
"""

from __future__ import annotations

import numpy as np

_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)
_MAX = 1024  # num_perm's upper bound (DedupeConfig): enough multipliers and salts for any bands x rows
_RNG = np.random.RandomState(0x5EED)
_MULTIPLIERS = _RNG.randint(0, 1 << 62, size=_MAX, dtype=np.int64).astype(np.uint64) * np.uint64(4) + np.uint64(1)
_SALTS = _RNG.randint(0, 1 << 62, size=_MAX, dtype=np.int64).astype(np.uint64)


def fmix64(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finalizer, element-wise, in place on a uint64 array (returned)."""
    values ^= values >> _S33
    values *= _M1
    values ^= values >> _S33
    values *= _M2
    values ^= values >> _S33
    return values


def band_hashes(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(n, bands) uint64: one hash per band of each (n, num_perm) uint32 signature."""
    cut = signatures[:, :bands * rows].reshape(len(signatures), bands, rows).astype(np.uint64)
    cut *= _MULTIPLIERS[:rows]
    out = cut.sum(axis=2, dtype=np.uint64)
    out += _SALTS[:bands]
    return fmix64(out)


def _merge(old: tuple[np.ndarray, np.ndarray], new: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """One sorted run from two; among equal hashes the older run's ids come first."""
    (old_h, old_id), (new_h, new_id) = old, new
    at = np.searchsorted(old_h, new_h, side="right") + np.arange(len(new_h))
    hashes = np.empty(len(old_h) + len(new_h), dtype=np.uint64)
    ids = np.empty(len(hashes), dtype=np.uint32)
    keep = np.ones(len(hashes), dtype=bool)
    keep[at] = False
    hashes[at], ids[at] = new_h, new_id
    hashes[keep], ids[keep] = old_h, old_id
    return hashes, ids


class BandTable:
    """Band hashes of every indexed entry, searchable for a batch at once.

    Small batches (up to SMALL entries, as a crawl that judges entry by entry makes) go to a tail: a dict
    from band hash to ids, searched with one lookup per band, which becomes a sorted run when it holds
    TAIL entries. This keeps a batch of one from paying a numpy search per run.
    """

    SMALL = 32
    TAIL = 4096

    def __init__(self, runs: list[tuple[np.ndarray, np.ndarray]] | None = None) -> None:
        self.runs: list[tuple[np.ndarray, np.ndarray]] = runs or []
        self.tail: dict[int, list[int]] = {}
        self.tail_rows: list[tuple[np.ndarray, np.ndarray]] = []
        self.tail_size = 0

    def __len__(self) -> int:
        return sum(len(h) for h, _ in self.runs) + sum(h.size for h, _ in self.tail_rows)

    def add(self, hashes: np.ndarray, ids: np.ndarray) -> None:
        """Index entries: `hashes` (n, bands) uint64 of the entries `ids` (n,) (all newer than any indexed)."""
        if len(hashes) <= self.SMALL:
            width = hashes.shape[1]
            for n, value in enumerate(hashes.ravel().tolist()):
                self.tail.setdefault(value, []).append(int(ids[n // width]))
            self.tail_rows.append((hashes, ids))
            self.tail_size += len(hashes)
            if self.tail_size >= self.TAIL:
                self.flush()
            return
        self.flush()
        self._add_run(hashes, ids)

    def flush(self) -> None:
        """Turn the tail into a sorted run."""
        if self.tail_rows:
            rows = self.tail_rows
            self.tail, self.tail_rows, self.tail_size = {}, [], 0
            self._add_run(np.concatenate([h for h, _ in rows]), np.concatenate([i for _, i in rows]))

    def _add_run(self, hashes: np.ndarray, ids: np.ndarray) -> None:
        flat = hashes.ravel()
        owners = np.repeat(ids.astype(np.uint32), hashes.shape[1])
        order = np.argsort(flat, kind="stable")
        self.runs.append((flat[order], owners[order]))
        while len(self.runs) > 1 and 2 * len(self.runs[-1][0]) >= len(self.runs[-2][0]):
            newer = self.runs.pop()
            self.runs[-1] = _merge(self.runs[-1], newer)

    def candidates(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(query rows, ids): every indexed entry sharing a band hash with row i of `hashes` (n, bands),
        one pair per shared band (repeats possible)."""
        flat, width = hashes.ravel(), hashes.shape[1]
        order = np.argsort(flat)
        keys = flat[order]
        rows_out: list[np.ndarray] = []
        ids_out: list[np.ndarray] = []
        for run_h, run_id in self.runs:
            # One search per run: equal hashes are adjacent, so walk right from the first while they match.
            at = np.searchsorted(run_h, keys, side="left")
            which = np.flatnonzero(at < len(run_h))
            while len(which):
                which = which[run_h[at[which]] == keys[which]]
                rows_out.append(order[which] // width)
                ids_out.append(run_id[at[which]])
                at[which] += 1
                which = which[at[which] < len(run_h)]
        if self.tail:
            found = [(n // width, i) for n, value in enumerate(flat.tolist()) for i in self.tail.get(value, ())]
            if found:
                pairs = np.array(found, dtype=np.int64)
                rows_out.append(pairs[:, 0])
                ids_out.append(pairs[:, 1].astype(np.uint32))
        if not rows_out:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.uint32)
        return np.concatenate(rows_out), np.concatenate(ids_out)
