"""Distinct-count sketches (paperset/packager/sketch.py): many merged at once give what merging them one by one
gives, whether they hold exact hashes, registers, or both kinds."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from paperset.packager.sketch import Sketch


def _one_by_one(sketches: list[Sketch]) -> Sketch:
    total = Sketch()
    for one in sketches:
        total.merge(one)
    return total


def _hashed(values: range) -> np.ndarray:
    sketch = Sketch()
    sketch.add(pa.array([f"2501.{n:05d}" for n in values]))
    assert sketch.exact is not None
    return sketch.exact


def _registers(values: range) -> Sketch:
    sketch = Sketch(exact=_hashed(values))
    sketch.merge(Sketch(registers=np.zeros(4096, np.uint8)))  # a sketch past EXACT: registers
    return sketch


def test_merging_at_once_equals_merging_one_by_one() -> None:
    exact_only = [Sketch(exact=_hashed(range(n * 150, n * 150 + 200))) for n in range(12)]  # overlapping sets of hashes
    together, alone = Sketch.merged(exact_only), _one_by_one(exact_only)
    assert together.registers is None and alone.registers is None
    assert np.array_equal(together.exact, alone.exact) and together.count() == alone.count() == (1850, True)
    mixed = [*exact_only[:5], _registers(range(5000, 9000)), *exact_only[5:], _registers(range(8000, 12000))]
    together, alone = Sketch.merged(mixed), _one_by_one(mixed)
    assert together.exact is None and alone.exact is None
    assert np.array_equal(together.registers, alone.registers) and together.count() == alone.count()
    assert not together.count()[1]  # an estimate
    assert Sketch.merged([]).count() == (0, True)
