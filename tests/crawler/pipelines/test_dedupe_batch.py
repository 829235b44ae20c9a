"""The near-dedupe step judges the entries that reach it together in one index call, with the outcomes
and counts of judging them one at a time."""

from __future__ import annotations

import asyncio
import gc
import gzip
import inspect
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


def cleaned(steps, corpus_path) -> list[PaperEntry]:
    """The entries through the steps before near dedupe (normalize, exact dedupe)."""
    out = []
    for entry in entries(corpus_path):
        for step in steps:
            entry = step.process_item(entry)
        out.append(entry)
    return out


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
        prepared = cleaned(before2, corpus_path)
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

    together = [outcome(e) for e in asyncio.run(page(cleaned(before, corpus_path)))]
    crawler2, before2, near2, calls2 = chain(tmp_path, "batch")
    batch = cleaned(before2, corpus_path)

    assert asyncio.run(_taken(near2, batch)) is batch
    assert [outcome(e) for e in batch] == together
    assert calls2 == [7]
    keys = ("unique", "merged", "linked", "known")
    assert [crawler2.stats.get_value(f"paperset/dedupe/near_{k}") for k in keys] == [4, 1, 2, None]

    # A single entry already waiting for its turn's call goes to the index with the batch, before it.
    _crawler3, before3, near3, calls3 = chain(tmp_path, "mixed")
    first, *rest = cleaned(before3, corpus_path)

    async def single_then_batch():
        waiting = asyncio.ensure_future(near3.process_item(first))
        await asyncio.sleep(0)  # the single entry is in its batch, its call not made yet
        assert len(near3.batch) == 1
        batch_left = await _taken(near3, rest)
        return await waiting, batch_left

    alone, left = asyncio.run(single_then_batch())
    assert left is rest
    assert [outcome(alone), *(outcome(e) for e in rest)] == together
    assert calls3 == [7]


def test_batches_arriving_together_share_one_index_call_and_leave_in_order(tmp_path, corpus_path) -> None:
    """Responses' batches that come within GATHER_S go to the index in one call; a batch of keys seen
    already waits behind them, so the batches leave in the order they came; one with nothing pending
    leaves at once, without waiting."""
    _crawler, before, near, calls = chain(tmp_path, "gathered")
    prepared = cleaned(before, corpus_path)
    first, second, repeats = prepared[:4], prepared[4:7], prepared[7:]  # repeats: keys of `first`
    left: list[str] = []

    async def response(name: str, batch: list[PaperEntry]) -> None:
        out = near.process_entries(batch)
        if inspect.isawaitable(out):
            await out
        left.append(name)

    async def crawl() -> list[str]:
        tasks = [asyncio.ensure_future(response(name, batch))
                 for name, batch in (("first", first), ("second", second), ("repeats", repeats))]
        await asyncio.sleep(0)
        assert left == [] and len(near.batch) == 7  # all waiting for the one call
        await asyncio.gather(*tasks)
        again = near.process_entries(repeats)  # nothing pending: settled at once
        assert not inspect.isawaitable(again)
        return left

    assert asyncio.run(crawl()) == ["first", "second", "repeats"]
    assert calls == [7]
    assert [e.paper_key for e in repeats] == [e.paper_key for e in first[:3]]


def test_a_failed_index_call_fails_every_waiting_batch_and_leaves_no_unretrieved_error(tmp_path, corpus_path) -> None:
    """The index call of gathered batches raises: each batch raises that error (the items manager then counts
    its entries as item errors), and asyncio is left no 'exception was never retrieved' to log."""
    _crawler, before, near, _calls = chain(tmp_path, "failing")
    prepared = cleaned(before, corpus_path)

    def down(keys, texts):
        raise ConnectionError("index down")

    near.index.query_insert_batch = down
    unretrieved: list[str] = []

    async def response(batch: list[PaperEntry]) -> str:
        try:
            out = near.process_entries(batch)
            if inspect.isawaitable(out):
                await out
        except ConnectionError as exc:
            return str(exc)
        return "passed"

    async def crawl() -> list[str]:
        asyncio.get_running_loop().set_exception_handler(lambda _loop, context: unretrieved.append(context["message"]))
        outcomes = await asyncio.gather(response(prepared[:4]), response(prepared[4:7]))
        gc.collect()  # futures no one awaited report their unretrieved errors when collected
        await asyncio.sleep(0)
        return outcomes

    assert asyncio.run(crawl()) == ["index down", "index down"]
    assert unretrieved == []
    assert near.batch == [] and near.waiting == {}


def test_known_keys_with_nothing_pending_leave_at_once_and_closing_frees_the_index(tmp_path, corpus_path) -> None:
    """A batch of keys the index knows already (a parent's papers on a --recent night), nothing pending: no
    wait for a call; after the spider closes, the step holds neither its outcomes nor the index."""
    crawler, before, near, calls = chain(tmp_path, "known")
    prepared = cleaned(before, corpus_path)
    first = prepared[:4]
    asyncio.run(asyncio.wait_for(_taken(near, first), 5))
    near.outcomes.clear()  # as a later run would: the index knows the keys, the step does not
    again = near.process_entries(first)
    assert not inspect.isawaitable(again) and calls == [4]
    assert crawler.stats.get_value("paperset/dedupe/near_known") == 4
    near.spider_closed(None)
    assert near.outcomes == {}
    with pytest.raises(RuntimeError, match="the near-dup index is closed"):
        near.index.contains("x")


async def _taken(near: NearDedupePipeline, batch: list[PaperEntry]) -> list[PaperEntry]:
    out = near.process_entries(batch)
    return await out if inspect.isawaitable(out) else out
