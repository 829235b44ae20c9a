"""Distinct counts that add up across partitions: a column's distinct values in one partition kept as a
sketch that merges with another partition's. A sketch holds the 64-bit hashes of the values while they
are few (at most EXACT when saved: the merged count is exact), else a HyperLogLog of 2**PRECISION
registers (the merged count is an estimate, standard error ERROR). Values are hashed with numpy, column
by column (strings by their bytes), the same in every process, so that a partition's sketch written by
one night merges with another night's."""

from __future__ import annotations

import base64
import math
import zlib
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

PRECISION = 12
REGISTERS = 1 << PRECISION
ERROR = 1.04 / math.sqrt(REGISTERS)  # HyperLogLog's relative standard error: 1.6%
EXACT = 256  # most hashes a saved sketch keeps; past it, registers
_PRIME = np.uint64(0x100000001B3)
_BYTES = 1 << 18  # bytes of strings hashed at once: the per-byte temporaries are 8-24 times that
_powers = np.ones(1, dtype=np.uint64)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer: every input bit moves every output bit."""
    h = h + np.uint64(0x9E3779B97F4A7C15)
    h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def _power_table(length: int) -> np.ndarray:
    global _powers
    if len(_powers) <= length:
        _powers = np.concatenate([np.ones(1, np.uint64), np.cumprod(np.full(length + 1, _PRIME, np.uint64))])
    return _powers


def _string_hashes(values: pa.Array) -> np.ndarray:
    """Each string's (or binary's) bytes as a polynomial mod 2**64, with its length, then mixed."""
    values = values.cast(pa.large_binary())
    offsets = np.frombuffer(values.buffers()[1], np.int64)[values.offset:values.offset + len(values) + 1]
    data = np.frombuffer(values.buffers()[2], np.uint8) if values.buffers()[2] is not None else np.zeros(0, np.uint8)
    out = np.empty(len(values), np.uint64)
    i = 0
    while i < len(values):
        # the strings from i whose bytes fit in _BYTES (at least one)
        end = max(i + 1, int(np.searchsorted(offsets, offsets[i] + _BYTES, "right")) - 1)
        starts, ends = offsets[i:end], offsets[i + 1:end + 1]
        lengths = ends - starts
        h = np.zeros(len(starts), np.uint64)
        if len(starts) and ends[-1] > starts[0]:
            seg = data[starts[0]:ends[-1]].astype(np.uint64) + np.uint64(1)
            position = np.arange(len(seg)) - np.repeat(starts - starts[0], lengths)
            contrib = seg * _power_table(int(lengths.max()))[position]
            filled = lengths > 0
            h[filled] = np.add.reduceat(contrib, (starts - starts[0])[filled])
        out[i:end] = _mix(h ^ (lengths.astype(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F)))
        i = end
    return out


def hashes(values: pa.Array) -> np.ndarray:
    """The sorted distinct 64-bit hashes of an array's non-null values."""
    values = pc.unique(pc.drop_null(values))
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    kind = values.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_binary(kind):
        found = _string_hashes(values)
    elif pa.types.is_floating(kind):
        found = _mix(values.cast(pa.float64()).to_numpy(zero_copy_only=False).view(np.uint64))
    elif pa.types.is_boolean(kind):
        found = _mix(values.to_numpy(zero_copy_only=False).astype(np.uint64))
    else:  # integers, dates, times: their integer value
        if not pa.types.is_integer(kind):
            values = values.view(pa.int64() if kind.bit_width == 64 else pa.int32())
        found = _mix(values.cast(pa.int64()).to_numpy(zero_copy_only=False).view(np.uint64))
    # Mixed once more: strings that differ in a digit or two (arXiv ids) left the estimates a few
    # percent off more often than random hashes do.
    return np.unique(_mix(found))


def _registers(found: np.ndarray) -> np.ndarray:
    registers = np.zeros(REGISTERS, np.uint8)
    index = (found >> np.uint64(64 - PRECISION)).astype(np.int64)
    rest = ((found << np.uint64(PRECISION)) >> np.uint64(32)).astype(np.float64)  # the next 32 bits
    rank = (33 - np.frexp(rest)[1]).astype(np.uint8)  # leading zeros + 1 (33 when all 32 are zero)
    np.maximum.at(registers, index, rank)
    return registers


class Sketch:
    """One column's distinct values in some partitions: `exact` hashes, or `registers`."""

    def __init__(self, exact: np.ndarray | None = None, registers: np.ndarray | None = None) -> None:
        self.exact = exact if exact is not None or registers is not None else np.zeros(0, np.uint64)
        self.registers = registers

    def add(self, values: pa.Array) -> None:
        self.merge(Sketch(exact=hashes(values)))

    def merge(self, other: Sketch) -> None:
        if self.exact is not None and other.exact is not None:
            self.exact = np.union1d(self.exact, other.exact)
            return
        mine = self.registers if self.exact is None else _registers(self.exact)
        theirs = other.registers if other.exact is None else _registers(other.exact)
        self.registers, self.exact = np.maximum(mine, theirs), None

    @classmethod
    def merged(cls, sketches: list[Sketch]) -> Sketch:
        """The merge of many sketches at once, the same as merging them one by one: the union of the exact
        hashes taken once (not one growing union a sketch at a time), registers their maximum."""
        exact = [s.exact for s in sketches if s.exact is not None]
        union = np.unique(np.concatenate(exact)) if exact else np.zeros(0, np.uint64)
        registers = [s.registers for s in sketches if s.exact is None and s.registers is not None]
        if not registers:
            return cls(exact=union)
        if len(union):
            registers.append(_registers(union))
        return cls(registers=np.maximum.reduce(registers))

    def count(self) -> tuple[int, bool]:
        """(distinct values, whether the count is exact)."""
        if self.exact is not None:
            return len(self.exact), True
        assert self.registers is not None
        harmonic = float(np.sum(np.ldexp(1.0, -self.registers.astype(np.int32))))
        estimate = 0.7213 / (1 + 1.079 / REGISTERS) * REGISTERS ** 2 / harmonic
        zeros = int(np.count_nonzero(self.registers == 0))
        if estimate <= 2.5 * REGISTERS and zeros:
            estimate = REGISTERS * math.log(REGISTERS / zeros)  # linear counting, for small counts
        return round(estimate), False

    def to_json(self) -> dict[str, Any]:
        if self.exact is not None and len(self.exact) <= EXACT:
            return {"exact": base64.b64encode(self.exact.astype("<u8").tobytes()).decode()}
        registers = self.registers if self.exact is None else _registers(self.exact)
        return {"hll": base64.b64encode(zlib.compress(registers.tobytes(), 6)).decode()}

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> Sketch:
        if "exact" in record:
            return cls(exact=np.frombuffer(base64.b64decode(record["exact"]), "<u8").astype(np.uint64))
        return cls(registers=np.frombuffer(zlib.decompress(base64.b64decode(record["hll"])), np.uint8).copy())
