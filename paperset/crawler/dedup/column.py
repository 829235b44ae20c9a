"""One array of a near-dup index segment, in its `.npy` file, read by positioned reads (`os.pread`) of just
the rows a question needs; nothing of it is held in memory. A sorted array comes with its fences (every
FENCE-th value, a small array of its own kept in memory), so a search reads one or two blocks of FENCE
values per value searched instead of the whole array.

Why reads and not a memory map: pages of a mapped file that a search touches count in the process's
resident memory, and with the page cache's large folios a thousand binary searches over a 160 MB band
table mapped nearly all of it (measured: 159 MB resident after 1,200 random reads); pages read with pread
stay in the page cache, shared and reclaimable, outside the process."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

FENCE = 512  # values per block of a sorted array: 4 KB of uint64


class Column:
    """A `.npy` file's array (C order, rows along the first axis), its header checked when opened."""

    def __init__(self, file: Path, dtype: Any, size: int) -> None:
        """Check the header (dtype, C order) and that the file is `size` bytes, exactly the array's; the
        caller turns OSError, EOFError and ValueError into the index's one error."""
        with file.open("rb") as raw:
            major, _ = np.lib.format.read_magic(raw)
            read = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
            shape, fortran, found = read(raw)
            self.offset = raw.tell()
        if found != np.dtype(dtype) or fortran or not shape:
            raise ValueError(f"holds {found}{' (Fortran order)' if fortran else ''} {shape}, not {np.dtype(dtype)}")
        self.file, self.dtype, self.shape = file, np.dtype(dtype), tuple(shape)
        self.row_bytes = int(np.prod(shape[1:], dtype=np.int64)) * self.dtype.itemsize
        length = file.stat().st_size
        if length != size or length != self.offset + self.shape[0] * self.row_bytes:
            raise ValueError(f"{length} bytes, not the {size} its header names")
        self._fd: int | None = None  # opened at the first read: most columns of most segments are never read

    @property
    def fd(self) -> int:
        if self._fd is None:
            self._fd = os.open(self.file, os.O_RDONLY)
        return self._fd

    def __del__(self) -> None:
        if getattr(self, "_fd", None) is not None:
            os.close(self._fd)  # type: ignore[arg-type]

    def __len__(self) -> int:
        return self.shape[0]

    def read(self, start: int, stop: int) -> np.ndarray:
        """Rows start..stop-1."""
        stop = min(stop, len(self))
        count = max(stop - start, 0)
        data = os.pread(self.fd, count * self.row_bytes, self.offset + start * self.row_bytes) if count else b""
        return np.frombuffer(data, dtype=self.dtype).reshape((count, *self.shape[1:]))

    def rows(self, positions: np.ndarray) -> np.ndarray:
        """The rows at `positions` (any order, repeats allowed), one read per distinct row."""
        unique, back = np.unique(np.asarray(positions, dtype=np.int64), return_inverse=True)
        out = np.empty((len(unique), *self.shape[1:]), dtype=self.dtype)
        for n, at in enumerate(unique.tolist()):
            out[n] = self.read(at, at + 1)[0]
        return out[back]

    def whole(self) -> np.ndarray:
        """All rows (a compaction's inputs)."""
        return self.read(0, len(self))


def fences(sorted_values: np.ndarray) -> np.ndarray:
    """Every FENCE-th value of a sorted array: what a Sorted column keeps in memory."""
    return np.ascontiguousarray(sorted_values[::FENCE])


class Sorted:
    """A sorted 1-D column with its fences: the blocks that may hold given values."""

    def __init__(self, column: Column, fence_values: np.ndarray) -> None:
        if len(fence_values) != -(-len(column) // FENCE):
            raise ValueError(f"{len(fence_values)} fences for {len(column)} values")
        self.column, self.fences = column, np.asarray(fence_values)

    def __len__(self) -> int:
        return len(self.column)

    def blocks(self, values: np.ndarray) -> list[tuple[int, int]]:
        """(start, stop) row ranges, ascending and disjoint, holding every row equal to any of `values`."""
        if not len(values) or not len(self.column):
            return []
        if len(values) == 1:  # a key's lookup: no block mask
            lo = max(int(np.searchsorted(self.fences, values[0], side="left")) - 1, 0)
            hi = max(int(np.searchsorted(self.fences, values[0], side="right")) - 1, lo)
            return [(lo * FENCE, min((hi + 1) * FENCE, len(self.column)))]
        first = np.maximum(np.searchsorted(self.fences, values, side="left") - 1, 0)
        last = np.searchsorted(self.fences, values, side="right") - 1
        wanted = np.zeros(len(self.fences), dtype=bool)
        for lo, hi in zip(first.tolist(), last.tolist(), strict=True):
            wanted[lo:max(hi, lo) + 1] = True
        ranges: list[tuple[int, int]] = []
        for block in np.flatnonzero(wanted).tolist():
            start = block * FENCE
            if ranges and ranges[-1][1] == start:
                ranges[-1] = (ranges[-1][0], start + FENCE)
            else:
                ranges.append((start, start + FENCE))
        return [(start, min(stop, len(self.column))) for start, stop in ranges]

    def find(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
        """(the sorted values of the blocks that may hold `values`, their row numbers, the blocks)."""
        ranges = self.blocks(values)
        if not ranges:
            return np.empty(0, dtype=self.column.dtype), np.empty(0, dtype=np.int64), []
        read = np.concatenate([self.column.read(start, stop) for start, stop in ranges])
        positions = np.concatenate([np.arange(start, stop, dtype=np.int64) for start, stop in ranges])
        return read, positions, ranges
