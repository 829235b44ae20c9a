"""Word n-gram shingle hashes for a batch of texts, computed with numpy, no Python loop per word.

A batch is lower-cased and encoded to UTF-8 once. A word is a maximal run of word bytes: ASCII
letters, digits and `_`, and every byte of a non-ASCII character (so accented and non-Latin words
stay whole; non-ASCII punctuation counts as a letter, which only ever joins two words). A word's hash
is the polynomial `sum(byte_k * P^(len-1-k)) mod 2^32`, taken for every word at once from prefix sums
with P's inverse mod 2^32; an n-gram's hash is the same polynomial over its n word hashes. Texts are
separated by a newline, which is never a word byte. A text with fewer than n words has one shingle:
its whole word sequence. Deterministic across processes and machines.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_P = 0x01000193  # FNV prime: odd, hence invertible mod 2^32
_P_INV = pow(_P, -1, 1 << 32)
_WORD_BYTE = np.zeros(256, dtype=bool)
for _c in b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_":
    _WORD_BYTE[_c] = True
_WORD_BYTE[0x80:] = True


def _powers(base: int, count: int) -> np.ndarray:
    """base^0 .. base^(count-1) mod 2^32."""
    out = np.empty(count, dtype=np.uint32)
    value = 1
    for i in range(min(count, 64)):
        out[i] = value
        value = value * base % (1 << 32)
    filled = min(count, 64)
    while filled < count:  # doubling: base^(i+filled) = base^i * base^filled
        step = min(filled, count - filled)
        out[filled:filled + step] = out[:step] * out[filled - 1 if filled else 0] * np.uint32(base)
        filled += step
    return out


class ShingleHasher:
    """Turns texts into uint32 shingle hashes of word n-grams (n = `size`)."""

    def __init__(self, size: int = 5) -> None:
        self.size = size
        self.gram_powers = np.array([pow(_P, size - 1 - j, 1 << 32) for j in range(size)], dtype=np.uint32)
        self._pow = np.ones(1, dtype=np.uint32)
        self._inv = np.ones(1, dtype=np.uint32)

    def _tables(self, length: int) -> tuple[np.ndarray, np.ndarray]:
        if len(self._pow) < length + 1:
            size = max(length + 1, 2 * len(self._pow))
            self._pow, self._inv = _powers(_P, size), _powers(_P_INV, size)
        return self._pow, self._inv

    def _word_hashes(self, data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(hashes, starts) of every word in the byte array."""
        padded = np.zeros(len(data) + 2, dtype=bool)
        np.take(_WORD_BYTE, data, out=padded[1:-1])
        edges = np.flatnonzero(padded[1:] != padded[:-1])
        starts, ends = edges[::2], edges[1::2]
        powers, inverse = self._tables(len(data))
        # prefix[k] = sum_{j<k} byte_j * P^-j ; word hash = (prefix[end] - prefix[start]) * P^(end-1)
        prefix = np.empty(len(data) + 1, dtype=np.uint32)
        prefix[0] = 0
        np.multiply(data, inverse[:len(data)], out=prefix[1:], dtype=np.uint32)
        np.cumsum(prefix[1:], out=prefix[1:])
        hashes = (prefix[ends] - prefix[starts]) * powers[ends - 1]
        return hashes, starts

    def batch(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(hashes, offsets): the shingle hashes of every text, concatenated, and where each text's start
        (`offsets[i]:offsets[i+1]`; length len(texts)+1). A text with no words has no shingles."""
        encoded = ["".join(t.split("\n")).lower().encode("utf-8", "surrogatepass") if "\n" in t
                   else t.lower().encode("utf-8", "surrogatepass") for t in texts]
        data = np.frombuffer(b"\n".join(encoded), dtype=np.uint8)
        lengths = np.fromiter((len(e) + 1 for e in encoded), dtype=np.int64, count=len(encoded))
        text_ends = np.cumsum(lengths) - 1  # position of each text's separator (or the end)
        flat, word_starts = self._word_hashes(data)
        word_offsets = np.zeros(len(texts) + 1, dtype=np.int64)
        word_offsets[1:] = np.searchsorted(word_starts, text_ends, side="left")
        counts = word_offsets[1:] - word_offsets[:-1]
        n = self.size
        windows = max(len(flat) - n + 1, 0)
        rolled = np.zeros(windows, dtype=np.uint32)
        for j in range(n):
            rolled += flat[j:j + windows] * self.gram_powers[j]
        # A window is kept when its n words are of one text: not among the last n-1 starts of a text.
        tails = (word_offsets[1:, None] - np.arange(1, n)[None, :]).ravel()
        tails = tails[(tails >= np.repeat(word_offsets[:-1], n - 1)) & (tails < windows)]
        keep = np.ones(windows, dtype=bool)
        keep[tails] = False
        hashes = rolled[keep]
        shingle_counts = np.maximum(counts - n + 1, 0)
        short = np.flatnonzero((counts > 0) & (counts < n))
        if len(short):
            extra = np.array([int((flat[word_offsets[i]:word_offsets[i + 1]]
                                   * self.gram_powers[n - counts[i]:]).sum(dtype=np.uint32)) for i in short],
                             dtype=np.uint32)
            before = np.concatenate(([0], np.cumsum(shingle_counts)))
            hashes = np.insert(hashes, before[short], extra)
            shingle_counts[short] = 1
        offsets = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(shingle_counts, out=offsets[1:])
        return hashes, offsets

    def one(self, text: str) -> np.ndarray:
        """The shingle hashes of one text."""
        return self.batch([text])[0]
