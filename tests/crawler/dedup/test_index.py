"""The near-dup index and pipeline on real near copies, persistence, and a shared Redis index."""

from __future__ import annotations

import asyncio
import gzip
import inspect
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from paperset.crawler.clean.normalize import clean_text
from paperset.crawler.dedup.config import DedupeConfig
from paperset.crawler.dedup.index import open_index
from paperset.crawler.errors import SettingError
from paperset.crawler.pipelines.dedupe_exact import ExactDedupePipeline
from paperset.crawler.pipelines.dedupe_near import NearDedupePipeline
from paperset.crawler.pipelines.normalize import NormalizePipeline
from paperset.crawler.site.items import PaperEntry
from tests.conftest import project_crawler, redis_server


def corpus(corpus_path) -> dict[str, dict]:
    with gzip.open(corpus_path, "rt", encoding="utf-8") as lines:
        return {row["paper"]["id"]: row["paper"] for row in map(json.loads, lines)}


def text(paper: dict) -> str:
    return f"{clean_text(paper['title'])} {clean_text(paper['summary'])}"


def test_the_real_near_copies_are_found_and_unrelated_papers_are_not(corpus_path) -> None:
    papers = corpus(corpus_path)
    index = open_index(DedupeConfig(), "memory")
    keys = ["2512.10739", "2507.02592", "2407.21783", "2512.10756", "2509.13305", "2502.20730"]
    results = index.query_insert_batch(keys, [text(papers[k]) for k in keys])
    found = {k: (r.key, round(r.similarity, 2)) for k, r in zip(keys, results, strict=True) if r}
    assert set(found) == {"2512.10756", "2509.13305"}
    assert found["2512.10756"][0] == "2512.10739" and found["2512.10756"][1] >= 0.8
    assert found["2509.13305"][0] == "2507.02592" and found["2509.13305"][1] >= 0.75
    assert index.cluster_of("2509.13305") == index.cluster_of("2507.02592") == "2507.02592"


@pytest.fixture
def steps(tmp_path):
    crawler = project_crawler(PAPERSET_DEDUPE_STORE=str(tmp_path / "index"))
    crawler.stats.open_spider()
    chain = [NormalizePipeline.from_crawler(crawler), ExactDedupePipeline.from_crawler(crawler),
             NearDedupePipeline.from_crawler(crawler)]

    def run(entry: PaperEntry) -> PaperEntry:
        for step in chain:
            entry = step.process_item(entry)
            if inspect.isawaitable(entry):  # the near-dedupe step is async (it judges in batches)
                entry = asyncio.run(entry)
        return entry

    run.crawler, run.near = crawler, chain[-1]
    return run


def test_id_less_near_copy_is_merged_and_different_ids_are_linked(steps, corpus_path) -> None:
    papers = corpus(corpus_path)
    web, web2 = papers["2507.02592"], papers["2509.13305"]
    first = steps(PaperEntry(paper_id="2507.02592", title=web["title"], abstract=web["summary"]))
    # The same paper seen on a search page, with no id and a few words lost at the end.
    copy = steps(PaperEntry(title=web["title"], abstract=" ".join(web["summary"].split()[:-6])))
    second = steps(PaperEntry(paper_id="2509.13305", title=web2["title"], abstract=web2["summary"]))
    assert (first.paper_key, first.cluster_id) == ("2507.02592", None)
    assert copy.paper_key == "2507.02592" and copy.similarity >= 0.9
    assert (second.paper_key, second.cluster_id) == ("2509.13305", "2507.02592")
    stats = steps.crawler.stats
    assert [stats.get_value(f"paperset/dedupe/near_{k}") for k in ("unique", "merged", "linked")] == [1, 1, 1]


def test_a_copy_differing_only_by_a_mirror_host_is_one_paper(steps, tmp_path) -> None:
    abstract = "Code and models: https://huggingface.co/McmanusChen/MCL-base. We pretrain a model."
    original = steps(PaperEntry(title="MCL", abstract=abstract))
    mirrored = steps(PaperEntry(title="MCL", abstract=abstract.replace("huggingface.co", "huggingface.host")))
    assert mirrored.paper_key == original.paper_key
    assert steps.crawler.stats.get_value("paperset/dedupe/repeat") == 1


def test_the_index_lasts_across_runs_and_refuses_another_config(tmp_path, corpus_path) -> None:
    papers = corpus(corpus_path)
    store = str(tmp_path / "idx")
    first = open_index(DedupeConfig(), store)
    first.query_insert_batch(["2507.02592"], [text(papers["2507.02592"])])
    first.close()
    tomorrow = open_index(DedupeConfig(), store)
    assert tomorrow.contains("2507.02592")
    [match] = tomorrow.query_insert_batch(["2509.13305"], [text(papers["2509.13305"])])
    assert match is not None and match.key == "2507.02592"
    with pytest.raises(SettingError, match="was built with"):
        open_index(DedupeConfig(threshold=0.8), store)


def test_bad_settings_are_refused_up_front() -> None:
    with pytest.raises(SettingError, match="setting PAPERSET_DEDUPE_THRESHOLD = 'high': expected number"):
        DedupeConfig.from_settings({"PAPERSET_DEDUPE_THRESHOLD": "high"})
    expected = "setting PAPERSET_DEDUPE_THRESHOLD = '1.5': expected number, 0 < x < 1"
    with pytest.raises(SettingError, match=re.escape(expected)):
        DedupeConfig.from_settings({"PAPERSET_DEDUPE_THRESHOLD": "1.5"})
    with pytest.raises(SettingError, match="PAPERSET_DEDUPE_ROWS: give both or neither"):
        DedupeConfig(bands=4)


@pytest.fixture
def redis_url(tmp_path):
    with redis_server(tmp_path) as url:
        yield url


INSERT = """
import gzip, json, sys
from paperset.crawler.dedup.config import DedupeConfig
from paperset.crawler.dedup.index import open_index
from paperset.crawler.clean.normalize import clean_text
url, corpus, mine, other = sys.argv[1:5]
papers = {}
for line in gzip.open(corpus, "rt"):
    paper = json.loads(line)["paper"]
    papers[paper["id"]] = f"{clean_text(paper['title'])} {clean_text(paper['summary'])}"
index = open_index(DedupeConfig(), url)
[match] = index.query_insert_batch([mine], [papers[mine]])
print(json.dumps({"match": match and match.key, "sees_other": index.contains(other),
                  "imported": sorted({"datasketch", "scipy"} & set(sys.modules))}))
"""


@pytest.mark.redis
def test_two_processes_share_one_redis_index(redis_url, corpus_path) -> None:
    corpus_path = str(corpus_path)

    def insert(mine: str, other: str) -> dict:
        out = subprocess.run([sys.executable, "-c", INSERT, redis_url, corpus_path, mine, other],
                             capture_output=True, text=True, check=True, cwd=Path(__file__).parents[2])
        return json.loads(out.stdout)

    # Neither datasketch nor scipy is imported: the layout is written by redis_lsh.py (0.4 s a worker).
    assert insert("2507.02592", "2509.13305") == {"match": None, "sees_other": False, "imported": []}
    assert insert("2509.13305", "2507.02592") == {"match": "2507.02592", "sees_other": True, "imported": []}
    assert insert("2407.21783", "2509.13305") == {"match": None, "sees_other": True, "imported": []}


@pytest.mark.redis
def test_pipelined_redis_lsh_reads_and_writes_datasketchs_own_layout(redis_url, corpus_path) -> None:
    """Half the entries inserted by datasketch, half through our pipeline: both read both, alike."""
    import redis
    from datasketch import MinHashLSH

    from paperset.crawler.dedup.minhash import BatchMinHasher
    from paperset.crawler.dedup.redis_lsh import PipelinedRedisLSH, RedisLayout
    from paperset.crawler.dedup.shingles import ShingleHasher

    with gzip.open(corpus_path, "rt", encoding="utf-8") as lines:
        rows = [json.loads(line) for _, line in zip(range(400), lines, strict=False)]
    texts = [clean_text(f"{r['paper']['title']} {r['paper']['summary']}") for r in rows]
    keys = [r["paper"]["id"] for r in rows]
    config = DedupeConfig()
    hasher = BatchMinHasher(config.num_perm, config.seed)
    leans = [hasher.lean(s) for s in hasher.signatures(*ShingleHasher(config.shingle_size).batch(texts))]
    port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    storage = {"type": "redis", "basename": b"pipelined-test", "redis": {"host": "127.0.0.1", "port": port}}
    lsh = MinHashLSH(num_perm=config.num_perm, params=config.params, storage_config=storage)
    fast = PipelinedRedisLSH(RedisLayout(b"pipelined-test", *config.params), redis.Redis(port=port))
    for n, (key, lean) in enumerate(zip(keys, leans, strict=True)):
        if n % 2:
            fast.insert_query(key, lean.hashvalues, insert=True)
        else:
            lsh.insert(key, lean, check_duplication=False)
    assert all(key in lsh and fast.contains(key) for key in keys)
    assert not fast.contains("2099.00001")
    assert len(fast) == lsh.keys.size() == len(keys)
    for key, lean in zip(keys, leans, strict=True):
        assert sorted(fast.insert_query(key, lean.hashvalues, insert=False)) == sorted(lsh.query(lean))
        assert key in lsh.query(lean)


def test_bands_and_rows_come_from_datasketchs_public_optimiser() -> None:
    from datasketch import MinHashLSH

    import paperset.crawler.dedup.config as config_module

    assert DedupeConfig().params == (20, 6)
    for threshold in (0.5, 0.7, 0.9):
        lsh = MinHashLSH(threshold=threshold, num_perm=128, weights=(0.1, 0.9))
        assert DedupeConfig(threshold=threshold).params == (lsh.b, lsh.r)
    assert "_optimal_param" not in Path(config_module.__file__).read_text(encoding="utf-8")


def test_the_known_optima_the_shipped_defaults_use_are_datasketchs() -> None:
    """The table that spares a default run datasketch's scipy import holds what the optimiser computes."""
    from paperset.crawler.dedup.config import KNOWN_OPTIMA, optimal_params

    assert KNOWN_OPTIMA
    for (threshold, num_perm), params in KNOWN_OPTIMA.items():
        assert optimal_params(threshold, num_perm) == params
    defaults = DedupeConfig()
    assert (defaults.threshold, defaults.num_perm) in KNOWN_OPTIMA


@pytest.mark.redis
def test_the_redis_layout_redis_lsh_relies_on_is_datasketch_2_0s(redis_url) -> None:
    """redis_lsh.py writes datasketch's private Redis layout itself: this pins it for the pinned version,
    and RedisLayout's names and band bytes are those of datasketch's own MinHashLSH."""
    import pickle
    import struct
    from importlib.metadata import version

    import redis
    from datasketch import MinHashLSH

    from paperset.crawler.dedup.minhash import BatchMinHasher
    from paperset.crawler.dedup.redis_lsh import RedisLayout

    assert version("datasketch") == "2.0.0", "re-check redis_lsh.py against the new datasketch, then this test"
    port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    storage = {"type": "redis", "basename": b"pin", "redis": {"host": "127.0.0.1", "port": port}}
    lsh = MinHashLSH(num_perm=128, params=(20, 6), storage_config=storage)
    hasher = BatchMinHasher(128, 1)
    signature = hasher.signatures(np.arange(1, 50, dtype=np.uint32), np.array([0, 49]))[0]
    lsh.insert("2507.02592", hasher.lean(signature), check_duplication=False)
    client = redis.Redis(port=port)
    key = pickle.dumps("2507.02592")
    bands = [bytes(signature[i * 6:(i + 1) * 6].byteswap().data) for i in range(20)]
    tables = [b"pin_bucket_" + struct.pack(">H", i) for i in range(20)]
    assert set(client.keys()) == {b"pin_keys", b"pin_keys" + key, *tables, *(t + b for t, b in zip(tables, bands,
                                                                                                  strict=True))}
    assert client.hgetall(b"pin_keys") == {key: b"pin_keys" + key}
    assert client.lrange(b"pin_keys" + key, 0, -1) == bands
    for table, band in zip(tables, bands, strict=True):
        assert client.hgetall(table) == {band: table + band}
        assert client.smembers(table + band) == {key}
    layout = RedisLayout(b"pin", 20, 6)
    assert layout.keys_name == lsh.keys._name and layout.tables == [t._name for t in lsh.hashtables]
    assert layout.band_bytes(signature) == [lsh._H(signature[a:b]) for a, b in lsh.hashranges] == bands
    assert layout.stored_key("2507.02592") == key and layout.key_of(key) == "2507.02592"


@pytest.mark.redis
def test_a_batch_through_redis_gives_what_one_call_per_entry_gives(redis_url, corpus_path) -> None:
    """The batched Redis path (one pipeline for every entry's inserts and lookups, one read of candidate
    signatures, one of clusters) judges in order, as one call per entry does: matches, similarities and
    cluster ids alike, chains of copies within the batch included."""
    import redis

    from paperset.crawler.dedup.index import open_index

    with gzip.open(corpus_path, "rt", encoding="utf-8") as lines:
        rows = [json.loads(line)["paper"] for _, line in zip(range(40), lines, strict=False)]
    texts = [f"{clean_text(r['title'])} {clean_text(r['summary'])}" for r in rows]
    keys = [r["id"] for r in rows]
    # Near copies in the batch: of an entry before them, and of a copy (a chain), and an empty text.
    keys += ["copy-a", "copy-b", "copy-c", "empty"]
    texts += [texts[3] + " Extra words.", texts[3] + " Extra words. More.", texts[10] + " v2", ""]
    client = redis.Redis.from_url(redis_url)

    def judged(batch: int) -> tuple[list, dict]:
        client.flushdb()
        index = open_index(DedupeConfig(), redis_url)
        matches = []
        for start in range(0, len(keys), batch):
            matches += index.query_insert_batch(keys[start:start + batch], texts[start:start + batch])
        return ([m and (m.key, m.similarity) for m in matches],
                {k: index.cluster_of(k) for k in keys})

    one_by_one, batched = judged(1), judged(len(keys))
    assert batched == one_by_one
    matches, clusters = batched
    assert [m and m[0] for m in matches[-4:]] == [keys[3], "copy-a", keys[10], None]
    assert clusters["copy-b"] == clusters["copy-a"] == clusters[keys[3]] == keys[3]
    assert clusters["empty"] is None
    index = open_index(DedupeConfig(), redis_url)
    assert index.contains_many([*keys, "never-seen"]) == [k != "empty" for k in keys] + [False]
    assert index.contains_many([]) == []
