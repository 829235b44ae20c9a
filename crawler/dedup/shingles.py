"""Word n-gram shingle hashes for a batch of texts, computed with numpy.

Each distinct word is hashed once (CRC-32 of its UTF-8 bytes, cached); an n-gram's hash is the
polynomial `sum(w[i+j] * P^(n-1-j)) mod 2^32` of its word hashes, rolled over the whole batch at
once. Deterministic across processes and machines (no Python `hash()`). A text with fewer than n
words has one shingle: its whole word sequence.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

import numpy as np

_WORD = re.compile(r"\w+")
_P = np.uint32(0x01000193)  # FNV prime: odd, so the polynomial mixes every position


class ShingleHasher:
    """Turns texts into uint32 shingle hashes; keeps a word -> hash cache between batches."""

    def __init__(self, size: int = 5, max_cache: int = 2_000_000) -> None:
        self.size = size
        self.max_cache = max_cache
        self.cache: dict[str, int] = {}
        self.powers = np.array([pow(int(_P), size - 1 - j, 1 << 32) for j in range(size)], dtype=np.uint32)

    def words(self, text: str) -> list[str]:
        return _WORD.findall(text.lower())

    def _word_hashes(self, words: list[str]) -> np.ndarray:
        cache = self.cache
        if len(cache) > self.max_cache:
            cache.clear()
        get = cache.get
        values = [get(w) for w in words]
        if None in values:
            for i, value in enumerate(values):
                if value is None:
                    word = words[i]
                    values[i] = cache[word] = zlib.crc32(word.encode("utf-8", "surrogatepass"))
        return np.fromiter(values, dtype=np.uint32, count=len(values))

    def batch(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(hashes, offsets): the shingle hashes of every text, concatenated, and where each text's start
        (`offsets[i]:offsets[i+1]`; length len(texts)+1). A text with no words has no shingles."""
        per_text = [_WORD.findall(t.lower()) for t in texts]
        counts = np.fromiter((len(w) for w in per_text), dtype=np.int64, count=len(per_text))
        words = [w for ws in per_text for w in ws]
        flat = self._word_hashes(words)
        starts = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(counts, out=starts[1:])
        n = self.size
        windows = max(len(flat) - n + 1, 0)
        rolled = np.zeros(windows, dtype=np.uint32)
        for j in range(n):
            rolled += flat[j:j + windows] * self.powers[j]
        # A window is a shingle when it starts and ends inside the same text.
        owner = np.repeat(np.arange(len(texts)), counts)
        keep = owner[:windows] == owner[n - 1:n - 1 + windows] if windows else np.zeros(0, dtype=bool)
        shingle_counts = np.maximum(counts - n + 1, 0)
        hashes = rolled[keep]
        short = np.flatnonzero((counts > 0) & (counts < n))
        if len(short):
            # Texts shorter than n words: one shingle of the whole word sequence, placed in order.
            shingle_counts[short] = 1
            extra = [int((flat[starts[i]:starts[i + 1]] * self.powers[n - counts[i]:]).sum(dtype=np.uint32))
                     for i in short]
            offsets_long = np.zeros(len(texts) + 1, dtype=np.int64)
            np.cumsum(np.maximum(counts - n + 1, 0), out=offsets_long[1:])
            hashes = np.insert(hashes, offsets_long[short], np.array(extra, dtype=np.uint32))
        offsets = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(shingle_counts, out=offsets[1:])
        return hashes, offsets

    def one(self, text: str) -> np.ndarray:
        """The shingle hashes of one text."""
        hashes, _ = self.batch([text])
        return hashes
