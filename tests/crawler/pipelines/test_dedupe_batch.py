"""The near-dedupe step judges the entries that reach it together in one index call, with the outcomes
and counts of judging them one at a time."""

from __future__ import annotations

import asyncio
import gzip
import json

import pytest

from paperset.crawler.pipelines.dedupe_exact import ExactDedupePipeline
from paperset.crawler.pipelines.dedupe_near import NearDedupePipeline
from paperset.crawler.pipelines.normalize import NormalizePipeline
from paperset.crawler.site.items import PaperEntry
from tests.conftest import project_crawler


def entries(corpus_path) -> list[PaperEntry]:
    """Real papers with their real near copies under other ids, an id-less copy, and repeats."""
    with gzip.open(corpus_path, "rt", encoding="utf-8") as lines:
        papers = {row["paper"]["id"]: row["paper"] for row in map(json.loads, lines)}
    ids = ["2507.02592", "2407.21783", "2509.13305", "2512.10739", "2502.20730", "2512.10756"]
    found = [PaperEntry(paper_id=i, title=papers[i]["title"], abstract=papers[i]["summary"]) for i in ids]
    web = papers["2507.02592"]
    found.append(PaperEntry(title=web["title"], abstract=" ".join(web["summary"].split()[:-6])))
    found += [PaperEntry(paper_id=i, title=papers[i]["title"], abstract=papers[i]["summary"]) for i in ids[:3]]
    return found


def chain(tmp_path, name: str):
    crawler = project_crawler(PAPERSET_DEDUPE_STORE=str(tmp_path / name))
    crawler.stats.open_spider()
    before = [NormalizePipeline.from_crawler(crawler), ExactDedupePipeline.from_crawler(crawler)]
    near = NearDedupePipeline.from_crawler(crawler)
    calls: list[int] = []
    judge = near.index.query_insert_batch

    def counted(keys, texts):
        calls.append(len(keys))
        return judge(keys, texts)

    near.index.query_insert_batch = counted
    return crawler, before, near, calls


def outcome(entry: PaperEntry) -> tuple:
    similarity = None if entry.similarity is None else round(entry.similarity, 6)
    return entry.paper_id, entry.paper_key, entry.cluster_id, similarity


def test_entries_arriving_together_go_to_the_index_in_one_call(tmp_path, corpus_path) -> None:
    crawler, before, near, calls = chain(tmp_path, "one-by-one")
    alone = []
    for entry in entries(corpus_path):
        for step in before:
            entry = step.process_item(entry)
        alone.append(outcome(asyncio.run(near.process_item(entry))))
    assert calls == [1] * 7

    crawler2, before2, near2, calls2 = chain(tmp_path, "together")

    async def page() -> list[PaperEntry]:
        prepared = []
        for entry in entries(corpus_path):
            for step in before2:
                entry = step.process_item(entry)
            prepared.append(entry)
        return await asyncio.gather(*(near2.process_item(entry) for entry in prepared))

    together = [outcome(e) for e in asyncio.run(page())]
    assert calls2 == [7]
    assert together == alone
    assert [o[1:3] for o in together[5:7]] == [("2512.10756", "2512.10739"), ("2507.02592", None)]
    keys = ("unique", "merged", "linked", "known")
    assert [crawler2.stats.get_value(f"paperset/dedupe/near_{k}") for k in keys] == [
        crawler.stats.get_value(f"paperset/dedupe/near_{k}") for k in keys] == [4, 1, 2, None]


def test_a_batch_taken_at_once_is_judged_as_entries_arriving_together(tmp_path, corpus_path) -> None:
    """`process_entries` (a response's EntryBatch, paperset/crawler/tracking/items_left.py): one index call,
    the outcomes and counts of the async path, and single entries waiting for their call judged first."""
    _crawler, before, near, _calls = chain(tmp_path, "async")

    async def page(prepared):
        return await asyncio.gather(*(near.process_item(entry) for entry in prepared))

    def prepare(chain_steps):
        out = []
        for entry in entries(corpus_path):
            for step in chain_steps:
                entry = step.process_item(entry)
            out.append(entry)
        return out

    together = [outcome(e) for e in asyncio.run(page(prepare(before)))]
    crawler2, before2, near2, calls2 = chain(tmp_path, "batch")
    batch = prepare(before2)
    assert near2.process_entries(batch) is batch
    assert [outcome(e) for e in batch] == together
    assert calls2 == [7]
    keys = ("unique", "merged", "linked", "known")
    assert [crawler2.stats.get_value(f"paperset/dedupe/near_{k}") for k in keys] == [4, 1, 2, None]

    # A single entry already waiting for its turn's call goes to the index before the batch's.
    _crawler3, before3, near3, calls3 = chain(tmp_path, "mixed")
    first, *rest = prepare(before3)

    async def single_then_batch():
        waiting = asyncio.ensure_future(near3.process_item(first))
        await asyncio.sleep(0)  # the single entry is in its batch, its call not made yet
        assert len(near3.batch) == 1
        near3.process_entries(rest)
        return await waiting

    alone = asyncio.run(single_then_batch())
    assert [outcome(alone), *(outcome(e) for e in rest)] == together
    assert calls3 == [1, 6]


def test_closing_frees_the_outcomes_and_the_index(tmp_path, corpus_path) -> None:
    """After the spider closes (the index saved), the step holds neither its outcomes nor the index: they
    are freed at once, not when the finished crawler's cycles are collected (paperset/app/crawl.py)."""
    _crawler, before, near, calls = chain(tmp_path, "closing")
    prepared = []
    for entry in entries(corpus_path):
        for step in before:
            entry = step.process_item(entry)
        prepared.append(entry)
    assert near.process_entries(prepared) is prepared and calls == [7]
    assert len(near.outcomes) == 7
    near.spider_closed(None)
    assert near.outcomes == {}
    with pytest.raises(RuntimeError, match="the near-dup index is closed"):
        near.index.contains("x")
