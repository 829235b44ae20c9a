"""Batched MinHash signatures with numpy, bit-identical to datasketch's `MinHash` (scheme affine32).

datasketch 2.0 (affine32): each input hash h (uint32) is pre-mixed with the MurmurHash3 finalizer,
then permutation k maps it to a_k * h + b_k mod 2^32 (odd a_k; a and b drawn from
`np.random.RandomState(seed)`), and the signature keeps the minimum per permutation (2^32-1 when
empty). Here the same arithmetic runs over a whole batch: one fmix over all shingles, one
multiply-add per permutation block, and `np.minimum.reduceat` per text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from datasketch import LeanMinHash

_EMPTY = np.uint32(0xFFFFFFFF)


def affine32_permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) uint32 as datasketch 2.0's `MinHash(num_perm, seed).permutations` (affine32) draws them,
    without importing datasketch (which imports scipy: a second of every run's start-up)."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def fmix32(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, element-wise (uint32 wraparound is the intended arithmetic)."""
    h = values.astype(np.uint32, copy=True)
    h ^= h >> np.uint32(16)
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    return h


class BatchMinHasher:
    """Signatures for many texts at once, with datasketch's permutations for (num_perm, seed).

    Texts are taken in groups of about `chunk` shingles: the (num_perm x shingles) product stays in
    the CPU cache, which makes this several times faster than one large product.
    """

    def __init__(self, num_perm: int = 128, seed: int = 1, chunk: int = 4096) -> None:
        self.num_perm, self.seed, self.chunk = num_perm, seed, chunk
        a, b = affine32_permutations(num_perm, seed)
        self.a, self.b = a[:, None], b[:, None]

    def signatures(self, hashes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """(len(offsets)-1, num_perm) uint32: the signature of each text's shingle hashes."""
        texts = len(offsets) - 1
        out = np.full((texts, self.num_perm), _EMPTY, dtype=np.uint32)
        nonempty = np.flatnonzero(offsets[1:] > offsets[:-1])
        if len(nonempty) == 0:
            return out
        mixed = fmix32(hashes)
        mean = max(1, int(len(hashes) / len(nonempty)))
        step = max(1, self.chunk // mean)
        for first in range(0, len(nonempty), step):
            idx = nonempty[first:first + step]
            lo, hi = offsets[idx[0]], offsets[idx[-1] + 1]
            permuted = self.a * mixed[lo:hi]  # (num_perm, shingles); uint32 wraps: mod 2^32
            permuted += self.b
            out[idx] = np.minimum.reduceat(permuted, offsets[idx] - lo, axis=1).T
        return out

    def lean(self, signature: np.ndarray) -> LeanMinHash:
        """A datasketch LeanMinHash holding the signature (for MinHashLSH and jaccard)."""
        from datasketch import LeanMinHash
        return LeanMinHash(seed=self.seed, hashvalues=signature, scheme="affine32")


def estimated_jaccard(left: np.ndarray, right: np.ndarray) -> float:
    """The fraction of equal signature slots: MinHash's Jaccard estimate."""
    return float(np.count_nonzero(left == right)) / len(left)
