"""The fast path is bit-identical to datasketch, and shingling is exact and never raises."""

from __future__ import annotations

import gzip
import json

import numpy as np
from datasketch import MinHash
from hypothesis import given, settings
from hypothesis import strategies as st

from paperset.crawler.clean.normalize import clean_text
from paperset.crawler.dedup.minhash import BatchMinHasher, affine32_permutations
from paperset.crawler.dedup.shingles import ShingleHasher


def real_texts(corpus_path, count: int) -> list[str]:
    with gzip.open(corpus_path, "rt", encoding="utf-8") as lines:
        rows = [json.loads(line) for _, line in zip(range(count), lines, strict=False)]
    return [f"{clean_text(r['paper']['title'])} {clean_text(r['paper']['summary']) or ''}" for r in rows]


def test_signatures_equal_datasketch_on_3000_real_abstracts(corpus_path) -> None:
    texts = real_texts(corpus_path, 3000)
    hashes, offsets = ShingleHasher(5).batch(texts)
    ours = BatchMinHasher(128, seed=1).signatures(hashes, offsets)
    for i in range(len(texts)):
        reference = MinHash(num_perm=128, seed=1, hashfunc=lambda value: value)
        reference.update_batch([int(v) for v in hashes[offsets[i]:offsets[i + 1]]])
        assert np.array_equal(reference.hashvalues, ours[i]), i
    assert ours.dtype == np.uint32


def test_other_seeds_and_sizes_and_an_empty_text_match_too() -> None:
    texts = ["", "one", "a b c d e f g h i j k"]
    hashes, offsets = ShingleHasher(3).batch(texts)
    ours = BatchMinHasher(64, seed=7).signatures(hashes, offsets)
    for i in range(len(texts)):
        reference = MinHash(num_perm=64, seed=7, hashfunc=lambda value: value)
        for value in hashes[offsets[i]:offsets[i + 1]]:
            reference.update(int(value))
        assert np.array_equal(reference.hashvalues, ours[i])


def test_shingles_of_a_batch_equal_those_of_each_text_alone() -> None:
    hasher = ShingleHasher(5)
    texts = ["", "short", "four words right here", "five words are right here", "Same case SAME case, punct!",
             "x " * 40]
    hashes, offsets = hasher.batch(texts)
    assert list(np.diff(offsets)) == [0, 1, 1, 1, 1, 36]
    for i, text in enumerate(texts):
        assert np.array_equal(hashes[offsets[i]:offsets[i + 1]], ShingleHasher(5).one(text))
    # Case and punctuation do not matter; word order does.
    assert np.array_equal(hasher.one("A b, C d E"), hasher.one("a B c D e"))
    assert not np.array_equal(hasher.one("a b c d e"), hasher.one("b a c d e"))


@settings(max_examples=200)
@given(st.lists(st.text(), max_size=5))
def test_shingling_never_raises(texts: list[str]) -> None:
    hashes, offsets = ShingleHasher(5).batch(texts)
    assert len(offsets) == len(texts) + 1
    assert offsets[-1] == len(hashes)


def test_permutations_are_datasketchs_own_without_importing_it() -> None:
    for num_perm, seed in ((128, 1), (16, 0), (64, 7), (1024, 12345)):
        a, b = affine32_permutations(num_perm, seed)
        reference = MinHash(num_perm=num_perm, seed=seed).permutations
        assert a.dtype == b.dtype == np.uint32
        assert np.array_equal(a, reference[0]), (num_perm, seed)
        assert np.array_equal(b, reference[1]), (num_perm, seed)
