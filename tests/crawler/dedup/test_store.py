"""The compact index: the same answers as datasketch's LSH for any batch size, saved and loaded without
pickle, old pickled indexes migrated, and an unreadable index one clear error naming the file."""

from __future__ import annotations

import gzip
import json
import pickle
import random
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from datasketch import MinHashLSH

from paperset.crawler.clean.normalize import clean_text
from paperset.crawler.dedup.config import DedupeConfig
from paperset.crawler.dedup.index import IndexUnreadable, NearDupIndex, check_store, open_index
from paperset.crawler.dedup.minhash import BatchMinHasher
from paperset.crawler.dedup.shingles import ShingleHasher
from paperset.crawler.dedup.store import INDEX_FILE, OLD_INDEX_FILE
from tests.conftest import ROOT, run_paperset

# An index in the single-file format of before, written by that code: 400 texts of texts_with_copies(_, 300),
# batches of 50.
V1_INDEX = ROOT / "fixtures" / "dedup" / "v1-index"


def texts_with_copies(corpus_path: Path, count: int = 1500) -> tuple[list[str], list[str]]:
    """Real texts, then exact and near copies of some of them (typos, truncation), and an empty text."""
    with gzip.open(corpus_path, "rt", encoding="utf-8") as lines:
        rows = [json.loads(line)["paper"] for _, line in zip(range(count), lines, strict=False)]
    texts = [f"{clean_text(p['title'])} {clean_text(p['summary']) or ''}" for p in rows]
    rng = random.Random(3)
    for text in rng.sample(texts, min(300, len(texts) // 2)):
        words = text.split()
        texts.append(" ".join(words[: int(len(words) * rng.uniform(0.8, 1.0))]))
        texts.append(text)
    texts.append("")
    return [str(n) for n in range(len(texts))], texts


def reference(keys: list[str], texts: list[str], config: DedupeConfig) -> list[tuple[str, float] | None]:
    """The answers of datasketch's own MinHashLSH over the same signatures, entry by entry: the candidate
    with the highest estimated Jaccard at or above the threshold, the earliest indexed among equals."""
    hasher = BatchMinHasher(config.num_perm, config.seed)
    hashes, offsets = ShingleHasher(config.shingle_size).batch(texts)
    signatures = hasher.signatures(hashes, offsets)
    lsh = MinHashLSH(num_perm=config.num_perm, params=config.params)
    order: dict[str, int] = {}
    out: list[tuple[str, float] | None] = []
    for key, signature, count in zip(keys, signatures, np.diff(offsets), strict=True):
        if not count:
            out.append(None)
            continue
        lean = hasher.lean(signature)
        scored = [(np.count_nonzero(signatures[order[c]] == signature) / config.num_perm, -order[c], c)
                  for c in lsh.query(lean)]
        best = max((s for s in scored if s[0] >= config.threshold), default=None)
        out.append(None if best is None else (best[2], best[0]))
        order[key] = len(order)
        lsh.insert(key, lean, check_duplication=False)
    return out


def answers(index: NearDupIndex, keys: list[str], texts: list[str], batch: int) -> list[tuple[str, float] | None]:
    found = []
    for start in range(0, len(keys), batch):
        found += index.query_insert_batch(keys[start:start + batch], texts[start:start + batch])
    return [None if m is None else (m.key, m.similarity) for m in found]


def test_the_same_answers_as_datasketchs_lsh_for_every_batch_size(corpus_path) -> None:
    keys, texts = texts_with_copies(corpus_path)
    expected = reference(keys, texts, DedupeConfig())
    assert sum(e is not None for e in expected) >= 600
    for batch in (1, 7, 33, 512, len(keys)):
        assert answers(NearDupIndex(DedupeConfig()), keys, texts, batch) == expected, batch


def test_a_saved_index_answers_like_one_never_saved_and_holds_no_pickle(tmp_path, corpus_path) -> None:
    keys, texts = texts_with_copies(corpus_path)
    config = DedupeConfig()
    whole = NearDupIndex(config)
    expected = answers(whole, keys, texts, 100)
    for cut in (250, 1700):  # saved with a small-batch tail, and after the tail became a run
        index = open_index(config, str(tmp_path / f"idx{cut}"))
        got = answers(index, keys[:cut], texts[:cut], 10)
        index.close()
        reopened = open_index(config, str(tmp_path / f"idx{cut}"))
        assert len(reopened) == len(index) and reopened.contains(keys[0]) and not reopened.contains("x")
        got += answers(reopened, keys[cut:], texts[cut:], 100)
        assert got == expected
        assert [reopened.cluster_of(k) for k in keys] == [whole.cluster_of(k) for k in keys]
    folder = tmp_path / "idx250"
    assert sorted(p.name for p in folder.iterdir()) == [".checked.json", "seg-0000000000-0000000250-000001"]
    segment = folder / "seg-0000000000-0000000250-000001"
    header = json.loads((segment / "header.json").read_text())["body"]
    assert header["format"] == "paperset-near-dup-segment" and (header["start"], header["end"]) == (0, 250)
    assert np.load(segment / "signatures.npy", allow_pickle=False).shape == (250, 128)  # no pickle in any file
    assert sorted(p.name for p in segment.iterdir()) == sorted(["header.json", *header["files"]])


def test_an_empty_index_and_one_of_empty_texts_are_saved_and_loaded(tmp_path) -> None:
    for texts in ([], ["", "..."]):
        index = open_index(DedupeConfig(), str(tmp_path / str(len(texts))))
        assert index.query_insert_batch([str(n) for n in range(len(texts))], texts) == [None] * len(texts)
        index.close()
        again = open_index(DedupeConfig(), str(tmp_path / str(len(texts))))
        assert len(again) == 0 and not again.contains("0")
        assert again.query_insert_batch(["a", "b"], ["one two three", "one two three"])[1].similarity == 1.0


def test_an_old_pickled_index_is_migrated_with_its_answers(tmp_path, corpus_path) -> None:
    keys, texts = texts_with_copies(corpus_path, 400)
    config = DedupeConfig()
    hasher = BatchMinHasher(config.num_perm, config.seed)
    signatures = hasher.signatures(*ShingleHasher(config.shingle_size).batch(texts[:300]))
    lsh = MinHashLSH(num_perm=config.num_perm, params=config.params)
    for key, signature in zip(keys[:300], signatures, strict=True):
        lsh.insert(key, hasher.lean(signature), check_duplication=False)
    # What paperset 0.1 wrote: its MinHashLSH, the signatures and the clusters, pickled.
    (tmp_path / OLD_INDEX_FILE).write_bytes(pickle.dumps({
        "config": config.to_dict(), "lsh": lsh, "signatures": dict(zip(keys[:300], signatures, strict=True)),
        "clusters": {"1": "0", "0": "0"}}))
    migrated = open_index(config, str(tmp_path))
    assert len(migrated) == 300 and migrated.cluster_of("1") == "0" and migrated.cluster_of("2") is None
    fresh = NearDupIndex(config)
    answers(fresh, keys[:300], texts[:300], 300)
    assert answers(migrated, keys[300:], texts[300:], 50) == answers(fresh, keys[300:], texts[300:], 50)
    migrated.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".checked.json", "seg-0000000000-0000000300-000001",
                                                          f"seg-0000000300-{len(keys) - 1:010d}-000002"]
    assert len(open_index(config, str(tmp_path))) == len(keys) - 1  # all but the empty text


def saved_index(folder: Path, corpus_path: Path) -> Path:
    """An index of 200 texts saved in `folder`; its one segment's signatures file."""
    keys, texts = texts_with_copies(corpus_path, 200)
    index = open_index(DedupeConfig(), str(folder))
    index.query_insert_batch(keys, texts)
    index.save()
    [segment] = folder.glob("seg-*")
    return segment / "signatures.npy"


def damaged(file: Path, damage: str, folder: Path) -> Path:
    """Damage a saved index as `damage` says; the file to be named."""
    data = file.read_bytes()
    if damage == "truncate":
        file.write_bytes(data[: len(data) // 2])
    elif damage == "flip":  # a byte inside the signatures: only the segment's CRC-32 can tell
        file.write_bytes(data[:300] + bytes([data[300] ^ 0xFF]) + data[301:])
    elif damage == "garbage":
        file.write_bytes(b"\x00" * 500)
    elif damage == "empty":
        file.write_bytes(b"")
    elif damage == "header":
        file = file.with_name("header.json")
        file.write_text(file.read_text().replace('"end": 400', '"end": 401'))
    elif damage == "old-flip":  # the single-file format of before: the zip's CRC tells
        shutil.rmtree(file.parent)
        file = folder / INDEX_FILE
        shutil.copy(V1_INDEX / INDEX_FILE, file)
        data = file.read_bytes()
        with zipfile.ZipFile(file) as archive:
            info = archive.getinfo("signatures.npy")
        at = info.header_offset + 30 + len(info.filename) + 200
        file.write_bytes(data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:])
    elif damage == "old-garbage":
        shutil.rmtree(file.parent)
        file = folder / OLD_INDEX_FILE
        file.write_bytes(pickle.dumps({"config": {}})[:-3])
    else:
        shutil.rmtree(file.parent)
        file = folder / INDEX_FILE
        with file.open("wb") as out:
            np.savez(out, header=np.frombuffer(b'{"format": "something else"}', dtype=np.uint8))
    return file


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty", "header", "old-flip", "old-garbage",
                                    "other-npz"])
def test_an_unreadable_index_is_one_error_naming_the_file_and_the_way_out(tmp_path, corpus_path, damage) -> None:
    folder = tmp_path / "dedupe-index"
    file = damaged(saved_index(folder, corpus_path), damage, folder)
    (folder / ".checked.json").unlink()  # an index linked from elsewhere: no stamp of this process
    for attempt in (open_index, check_store):
        with pytest.raises(IndexUnreadable) as error:
            attempt(DedupeConfig(), str(folder))
        message = str(error.value)
        assert f"the near-dup index {file} " in message and "cannot be read" in message
        assert "restore the folder from the dedupe-index/ copy in the newest published version" in message
        assert "delete it to start an empty index" in message


def test_paperset_crawl_refuses_an_unreadable_index_in_one_line(tmp_path, corpus_path, replica) -> None:
    out = tmp_path / "crawl" / "entries.jsonl"
    file = saved_index(out.parent / "dedupe-index", corpus_path)
    file.write_bytes(file.read_bytes()[:1000])
    result = run_paperset("crawl", "--base-url", replica.base_url, "--day", "2025-02-05", "--out", str(out))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(f"paperset crawl: the near-dup index {file} cannot be read (ValueError")
    assert "Traceback" not in result.stderr and not out.exists()


def test_paperset_crawl_refuses_an_index_of_other_settings_in_one_line(tmp_path, corpus_path, replica) -> None:
    out = tmp_path / "crawl" / "entries.jsonl"
    saved_index(out.parent / "dedupe-index", corpus_path)
    result = run_paperset("crawl", "--base-url", replica.base_url, "--day", "2025-02-05", "--out", str(out),
                          "-s", "PAPERSET_DEDUPE_THRESHOLD=0.8")
    assert result.returncode == 2
    assert result.stderr.startswith(f"paperset crawl: the index in {out.parent / 'dedupe-index'} was built with")
    assert len(result.stderr.strip().splitlines()) == 1 and not out.exists()
