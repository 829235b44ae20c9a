"""The folder index as immutable segments: each save adds one segment and leaves the older ones as they are,
a segment's arrays are read when a question needs them (not when opened), keys found without a dict of every key,
an index of the single-file format of before opens and migrates, compaction keeps the answers, and the
byte check reads only the files not stamped as checked."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from paperset.crawler.dedup.column import Column
from paperset.crawler.dedup.config import DedupeConfig
from paperset.crawler.dedup.disk import Segments
from paperset.crawler.dedup.folder import merge
from paperset.crawler.dedup.index import IndexUnreadable, NearDupIndex, check_store, load_index, open_index
from paperset.crawler.dedup.minhash import BatchMinHasher
from paperset.crawler.dedup.segments import write_segment
from paperset.crawler.dedup.shingles import ShingleHasher
from paperset.crawler.errors import SettingError
from paperset.crawler.pipelines.dedupe_near import NearDedupePipeline
from tests.conftest import project_crawler

from .test_store import V1_INDEX, answers, texts_with_copies


def segment_names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("seg-*"))


def stats(folder: Path) -> dict[str, tuple[int, int, int]]:
    return {str(f.relative_to(folder)): (f.stat().st_ino, f.stat().st_size, f.stat().st_mtime_ns)
            for f in folder.glob("seg-*/*")}


def test_each_save_adds_one_segment_and_never_touches_the_older_ones(tmp_path, corpus_path) -> None:
    keys, texts = texts_with_copies(corpus_path, 400)
    whole = NearDupIndex(DedupeConfig())
    expected = answers(whole, keys, texts, 40)
    folder = tmp_path / "index"
    got: list = []
    seen: dict[str, tuple[int, int, int]] = {}
    for n, (start, end) in enumerate([(0, 300), (300, 500), (500, 540), (540, len(keys))]):
        index = open_index(DedupeConfig(), str(folder))
        assert not index.ids and len(index) == start  # no dict of the indexed keys
        got += answers(index, keys[start:end], texts[start:end], 40)
        index.close()
        now = stats(folder)
        assert {name: now[name] for name in seen} == seen  # the older segments' files: same inode, size, mtime
        assert len(segment_names(folder)) == n + 1
        seen = now
    assert got == expected
    reopened = load_index(DedupeConfig(), folder)
    assert [reopened.cluster_of(k) for k in keys] == [whole.cluster_of(k) for k in keys]
    assert [reopened.contains(k) for k in [*keys[:5], "nope"]] == [True] * 5 + [False]
    newest = Segments.open(folder).segments[-1]
    assert (newest.start, newest.end) == (540, len(keys) - 1)  # the empty text is not indexed
    assert newest.columns["signatures"].shape == (len(keys) - 1 - 540, 128)  # only the night's entries


def test_the_segments_are_read_when_asked_not_when_opened(tmp_path, corpus_path) -> None:
    keys, texts = texts_with_copies(corpus_path, 100)
    index = open_index(DedupeConfig(), str(tmp_path))
    index.query_insert_batch(keys[:100], texts[:100])
    index.close()
    near = " ".join(texts[7].split()[:-3])  # a near copy of entry 7, not an exact one
    opened = load_index(DedupeConfig(), tmp_path)
    [segment] = opened.base.segments
    # Opened: the columns' headers read, their data not (only the sorted arrays' fences: every 512th value).
    assert all(type(column) is Column and not any(isinstance(v, np.ndarray) for v in vars(column).values())
               for column in segment.columns.values())
    assert [len(s.fences) for s in (segment.keys, segment.bands, segment.members)] == [1, 4, 1]
    # Entry 7's signature replaced in the file, in place, after the index was opened: the answer follows
    # the file (an index that had read its signatures when opened would still say the first similarity).
    config = DedupeConfig()
    before = NearDupIndex(config, None, Segments.open(tmp_path)).query_insert_batch(["q"], [near])[0]
    assert before is not None and before.key == "7" and before.similarity < 1.0
    signature = BatchMinHasher(config.num_perm, config.seed).signatures(*ShingleHasher(5).batch([near]))[0]
    on_disk = np.load(segment.path / "signatures.npy", mmap_mode="r+")
    on_disk[7] = signature
    on_disk.flush()
    del on_disk
    assert opened.query_insert_batch(["q"], [near])[0].similarity == 1.0


def test_an_index_of_the_single_file_format_opens_and_migrates(tmp_path, corpus_path) -> None:
    """V1_INDEX was written by the code of before from the first 400 texts, in batches of 50."""
    keys, texts = texts_with_copies(corpus_path, 300)
    folder = tmp_path / "index"
    shutil.copytree(V1_INDEX, folder)
    whole = NearDupIndex(DedupeConfig())
    answers(whole, keys[:400], texts[:400], 50)
    first = [whole.cluster_of(k) for k in keys[:400]]
    expected = answers(whole, keys[400:], texts[400:], 50)
    index = open_index(DedupeConfig(), str(folder))
    assert len(index) == 400 and not index.ids
    assert [index.cluster_of(k) for k in keys[:400]] == first and len({*first} - {None}) >= 50
    assert answers(index, keys[400:], texts[400:], 50) == expected
    index.close()
    assert segment_names(folder) == ["seg-0000000000-0000000400-000001", f"seg-0000000400-{len(keys) - 1:010d}-000002"]
    assert not (folder / "near-dup-index.npz").exists()
    again = open_index(DedupeConfig(), str(folder))
    assert [again.cluster_of(k) for k in keys] == [whole.cluster_of(k) for k in keys]


def test_compaction_merges_the_newest_segments_with_the_same_answers(tmp_path, corpus_path) -> None:
    keys, texts = texts_with_copies(corpus_path, 400)
    whole = NearDupIndex(DedupeConfig())
    expected = answers(whole, keys, texts, 30)
    got: list = []
    counts = []
    for start in range(0, len(keys), 90):
        index = open_index(DedupeConfig(), str(tmp_path), max_segments=3)
        got += answers(index, keys[start:start + 90], texts[start:start + 90], 30)
        index.close()
        counts.append(len(segment_names(tmp_path)))
    assert got == expected
    # 90 entries a save; past 3 segments the newest merge while the merged are at least half the next older
    assert counts == [1, 2, 3, 1, 2, 3, 1, 2, 3]
    reopened = open_index(DedupeConfig(), str(tmp_path))
    assert len(reopened) == len(keys) - 1
    assert [reopened.cluster_of(k) for k in keys] == [whole.cluster_of(k) for k in keys]


def test_a_killed_compactions_leftovers_are_passed_over_then_removed(tmp_path, corpus_path) -> None:
    keys, texts = texts_with_copies(corpus_path, 200)
    for start in (0, 100, 200):
        index = open_index(DedupeConfig(), str(tmp_path))
        index.query_insert_batch(keys[start:start + 100], texts[start:start + 100])
        index.close()
    segments = Segments.open(tmp_path).segments
    write_segment(tmp_path, DedupeConfig().to_dict(), merge(segments[1:]), 4)  # killed before removing inputs
    (tmp_path / ".seg-0000000300-0000000400-000005.tmp-1" / "x").mkdir(parents=True)  # a save killed midway
    assert len(segment_names(tmp_path)) == 4
    index = open_index(DedupeConfig(), str(tmp_path))
    assert [s.path.name for s in index.base.segments] == ["seg-0000000000-0000000100-000001",
                                                          "seg-0000000100-0000000300-000004"]
    assert [index.contains(k) for k in keys[:300]] == [True] * 300
    index.query_insert_batch(["x"], ["one two three four five six"])
    index.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".checked.json", "seg-0000000000-0000000100-000001", "seg-0000000100-0000000300-000004",
        "seg-0000000300-0000000301-000005"]
    stamped = json.loads((tmp_path / ".checked.json").read_text())
    # Written by this test unstamped, seg-...-000004 was read whole when opened and is stamped since; the
    # removed segments' stamps are gone.
    assert {name.split("/")[0] for name in stamped} == {"seg-0000000000-0000000100-000001",
                                                        "seg-0000000100-0000000300-000004",
                                                        "seg-0000000300-0000000301-000005"}
    shutil.rmtree(tmp_path / "seg-0000000100-0000000300-000004")
    with pytest.raises(IndexUnreadable, match=r"seg-0000000300-0000000301-000005 cannot be read \(entries 100..300"):
        open_index(DedupeConfig(), str(tmp_path))


def test_the_byte_check_reads_only_files_not_stamped_as_checked(tmp_path, corpus_path) -> None:
    keys, texts = texts_with_copies(corpus_path, 100)
    index = open_index(DedupeConfig(), str(tmp_path))
    index.query_insert_batch(keys, texts)
    index.close()
    [segment] = tmp_path.glob("seg-*")
    file = segment / "signatures.npy"
    before = file.stat()
    proof = {"ino": before.st_ino, "bytes": before.st_size, "mtime_ns": before.st_mtime_ns}
    data = file.read_bytes()
    file.write_bytes(data[:500] + bytes([data[500] ^ 1]) + data[501:])  # in place: same inode
    os.utime(file, ns=(before.st_atime_ns, before.st_mtime_ns))
    check_store(DedupeConfig(), str(tmp_path))  # stamped when written: its bytes are not read again
    (tmp_path / ".checked.json").unlink()
    with pytest.raises(IndexUnreadable, match=f"the near-dup index {file} cannot be read .*CRC-32"):
        check_store(DedupeConfig(), str(tmp_path))
    check_store(DedupeConfig(), str(tmp_path), {f"{segment.name}/signatures.npy": proof})  # a version's proof
    with pytest.raises(IndexUnreadable, match=f"the near-dup index {file} cannot be read .*CRC-32"):
        open_index(DedupeConfig(), str(tmp_path))


def test_a_file_read_whole_once_is_stamped_and_not_read_again(tmp_path, corpus_path) -> None:
    """An index copied or restored by hand (no stamps) is read whole by the pre-run check, once: the crawl's
    own open after it, and the next night's, read none of its bytes."""
    keys, texts = texts_with_copies(corpus_path, 100)
    index = open_index(DedupeConfig(), str(tmp_path))
    index.query_insert_batch(keys, texts)
    index.close()
    [segment] = tmp_path.glob("seg-*")
    (tmp_path / ".checked.json").unlink()
    check_store(DedupeConfig(), str(tmp_path))  # a published version's index, say: nothing written into it
    assert not (tmp_path / ".checked.json").exists()
    check_store(DedupeConfig(), str(tmp_path), remember=True)  # the crawl's own store
    stamped = json.loads((tmp_path / ".checked.json").read_text())
    files = Segments.open(tmp_path).segments[0].header["files"]
    assert sorted(stamped) == sorted(f"{segment.name}/{name}" for name in files) and len(files) >= 10


def test_the_pipeline_opens_the_folder_index_with_the_compaction_setting(tmp_path) -> None:
    for given, expected in (({}, 16), ({"PAPERSET_DEDUPE_MAX_SEGMENTS": 2}, 2)):
        crawler = project_crawler(PAPERSET_DEDUPE_STORE=str(tmp_path / "index"), **given)
        crawler.stats.open_spider()
        index = NearDedupePipeline.from_crawler(crawler).index
        assert type(index) is NearDupIndex and index.max_segments == expected and index.path == tmp_path / "index"
    for bad in (0, -3, "many"):  # refused naming the setting, never the default in its place
        crawler = project_crawler(PAPERSET_DEDUPE_STORE=str(tmp_path / "index"), PAPERSET_DEDUPE_MAX_SEGMENTS=bad)
        crawler.stats.open_spider()
        with pytest.raises(SettingError, match="PAPERSET_DEDUPE_MAX_SEGMENTS"):
            NearDedupePipeline.from_crawler(crawler)
