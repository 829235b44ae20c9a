"""Near-duplicate step: MinHash LSH over normalized title + abstract; merges id-less near copies into the
paper they copy, links near copies that have different ids (both kept)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector

from paperset.crawler.clean.keys import paper_key
from paperset.crawler.dedup.config import DedupeConfig
from paperset.crawler.dedup.index import DupIndex, Match, open_index
from paperset.crawler.pipelines.config import PipelineConfig
from paperset.crawler.site.items import PaperEntry
from paperset.spool.errors import INDEX_UNSAVED_STAT, NO_SPACE_STAT, no_space
from paperset.spool.reader import read_entries

logger = logging.getLogger(__name__)

Outcome = tuple[str, str | None, float | None]
# An entry waiting for its batch: key, text (None: the index knew the key), id-less, its future.
Waiting = tuple[str, str | None, bool, asyncio.Future[Outcome]]


class _ClosedIndex:
    """The near-dup index once the crawl has closed (and saved) it: asked anything, a clear error."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"the near-dup index is closed (asked for {name})")


CLOSED: Any = _ClosedIndex()


def dedupe_text(entry: Any) -> str:
    """What near-duplicates are judged on: the normalized title and abstract."""
    return f"{entry.get('title') or ''} {entry.get('abstract') or ''}".strip()


class NearDedupePipeline:
    """For each paper key seen for the first time: query the near-dup index, then insert.

    - an entry with no paper id that near-copies a paper is merged into it: its `paper_key` becomes
      that paper's key (`paperset/dedupe/near_merged`);
    - two different paper ids that are near copies are both kept and linked: the later one gets the
      earlier one's `cluster_id` (the earliest member's key) and the `similarity`
      (`paperset/dedupe/near_linked`);
    - otherwise the entry is new (`paperset/dedupe/near_unique`).
    Later sightings of the same key carry the same outcome. New keys are judged in batches: the entries
    that reach this step in one turn of the event loop (a page's worth: Scrapy hands up to
    CONCURRENT_ITEMS of a response's items to the pipelines at once) go to the index in one call, in
    the order they came, which gives the outcomes of one call per entry. The index outlives the run (see
    `PAPERSET_DEDUPE_STORE`). Settings: `PAPERSET_DEDUPE_ENABLED`, `PAPERSET_DEDUPE_STORE` and the
    `PAPERSET_DEDUPE_*` parameters of DedupeConfig.
    """

    def __init__(self, stats: StatsCollector, index: DupIndex, store: str) -> None:
        self.stats = stats
        self.index = index
        self.store = store
        self.outcomes: dict[str, Outcome] = {}
        # Entries waiting for the next batch, in arrival order, and the futures of their keys.
        self.batch: list[Waiting] = []
        self.waiting: dict[str, asyncio.Future[Outcome]] = {}
        self.ask_in_batches = index.asks_in_batches

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NearDedupePipeline:
        # Parsed and range-checked as the pre-run check does (0 or "x" is a SettingError, not the default).
        steps = PipelineConfig.from_settings(crawler.settings)
        if not steps.dedupe:
            raise NotConfigured
        config = DedupeConfig.from_settings(crawler.settings)
        assert crawler.stats is not None
        pipeline = cls(crawler.stats, open_index(config, steps.store, steps.dedupe_max_segments), steps.store)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        crawler.stats.set_value("paperset/config/dedupe", config.to_dict())
        if steps.resume and steps.spool and (Path(steps.spool) / "meta.json").exists():
            pipeline.warm(read_entries(Path(steps.spool), allow_partial=True))
        return pipeline

    def warm(self, entries: Iterable[dict[str, Any]]) -> None:
        """Resuming a killed crawl: take the outcomes of the entries already in its spool, and put into
        the index those it lost (the index is saved only when a crawl closes)."""
        keys: list[str] = []
        texts: list[str] = []
        for entry in entries:
            original = paper_key(entry["paper_id"], entry["content_key"])
            if original in self.outcomes:
                continue
            self.outcomes[original] = (entry["paper_key"], entry["cluster_id"], entry["similarity"])
            if not self.index.contains(original):
                keys.append(original)
                texts.append(dedupe_text(entry))
        for start in range(0, len(keys), 1000):
            self.index.query_insert_batch(keys[start:start + 1000], texts[start:start + 1000])
        self.stats.set_value("paperset/resume/dedupe_warmed", len(self.outcomes))

    async def process_item(self, item: Any) -> Any:
        entry: Any = item.__dict__ if type(item) is PaperEntry else ItemAdapter(item)
        key = entry["paper_key"]
        outcome = self.outcomes.get(key)
        if outcome is None:
            outcome = await self._judged(key, entry)
        entry["paper_key"], entry["cluster_id"], entry["similarity"] = outcome
        return item

    async def _judged(self, key: str, entry: Any) -> Outcome:
        if key in self.waiting:
            return await self.waiting[key]
        asked = self._asked(key, entry)
        if asked[1] is None and not self.batch:
            return self._known(key)
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        if not self.batch:
            asyncio.get_running_loop().call_soon(self.flush)
        self.batch.append((*asked, future))
        self.waiting[key] = future
        return await future

    def _asked(self, key: str, entry: Any) -> tuple[str, str | None, bool]:
        """What a new key is judged by: the key, its text (None when a local index knows the key already;
        a shared, Redis, index is asked once for the whole batch, in `_judge`), and whether it is id-less."""
        known = not self.ask_in_batches and self.index.contains(key)
        return key, None if known else dedupe_text(entry), entry.get("paper_id") is None

    def process_entries(self, items: list[Any]) -> list[Any]:
        """A response's batch at once (paperset/crawler/tracking/items_left.py): its new keys judged in
        arrival order, as `flush` judges the entries of one turn, without a future per entry."""
        if self.batch:  # single entries waiting for their turn's call: theirs first, as they came first
            self.flush()
        entries = [item.__dict__ if type(item) is PaperEntry else ItemAdapter(item) for item in items]
        asked: list[tuple[str, str | None, bool]] = []
        seen: set[str] = set()
        for entry in entries:
            key = entry["paper_key"]
            if key in self.outcomes or key in seen:
                continue
            seen.add(key)
            asked.append(self._asked(key, entry))
        for _ in self._judge(asked):
            pass
        for entry in entries:
            entry["paper_key"], entry["cluster_id"], entry["similarity"] = self.outcomes[entry["paper_key"]]
        return items

    def flush(self) -> None:
        """Judge the waiting entries in arrival order (see `_judge`), settling each one's future."""
        batch, self.batch = self.batch, []
        settled = 0
        try:
            for n, outcome in self._judge([(key, text, id_less) for key, text, id_less, _ in batch]):
                key, _, _, future = batch[n]
                self.waiting.pop(key, None)
                future.set_result(outcome)
                settled = n + 1
        except Exception as exc:
            for key, _, _, future in batch[settled:]:
                self.waiting.pop(key, None)
                if not future.done():
                    future.set_exception(exc)

    def _judge(self, batch: list[tuple[str, str | None, bool]]) -> Iterator[tuple[int, Outcome]]:
        """Each (key, text or None when the index knows the key, id-less) its outcome, in order, recorded
        in `outcomes`: runs of new keys in one index call each (a key the index knew is judged between
        them, so it sees the clusters the earlier ones made)."""
        batch = list(batch)
        if self.ask_in_batches:
            asked = [n for n, waiting in enumerate(batch) if waiting[1] is not None]
            answers = self.index.contains_many([batch[n][0] for n in asked])
            for n, known in zip(asked, answers, strict=True):
                if known:
                    batch[n] = (batch[n][0], None, batch[n][2])
        start = 0
        while start < len(batch):
            end = start
            while end < len(batch) and batch[end][1] is not None:
                end += 1
            if end == start:
                yield start, self._known(batch[start][0])
                start += 1
                continue
            run = batch[start:end]
            matches = self.index.query_insert_batch([b[0] for b in run], [b[1] or "" for b in run])
            for n, ((key, _, id_less), match) in enumerate(zip(run, matches, strict=True)):
                outcome = self.outcomes[key] = self._outcome(key, id_less, match)
                yield start + n, outcome
            start = end

    def _known(self, key: str) -> Outcome:
        self.stats.inc_value("paperset/dedupe/near_known")
        outcome = self.outcomes[key] = (key, self.index.cluster_of(key), None)
        return outcome

    def _outcome(self, key: str, id_less: bool, match: Match | None) -> Outcome:
        if match is None:
            self.stats.inc_value("paperset/dedupe/near_unique")
            return key, None, None
        if id_less:
            self.stats.inc_value("paperset/dedupe/near_merged")
            return match.key, None, match.similarity
        self.stats.inc_value("paperset/dedupe/near_linked")
        return key, self.index.cluster_of(match.key) or match.key, match.similarity

    def spider_closed(self, spider: Any) -> None:
        try:
            self.index.close()
        except Exception as exc:  # the index not saved: the run fails (a stat it reads), never published without it
            if isinstance(exc, OSError) and no_space(exc):  # a full disk: the stat names the file
                logger.error("no space left writing %s", exc.filename)
                self.stats.set_value(NO_SPACE_STAT, str(exc.filename))
            else:  # a Redis error, a folder it may not write: Scrapy would only log it
                why = f"{type(exc).__name__}: {exc}"[:300]
                logger.error("the near-duplicate index was not saved: %s", why)
                self.stats.set_value(INDEX_UNSAVED_STAT, why)
        finally:
            # Freed now, not when the finished crawler's cycles are collected: `paperset run` packages with
            # them set aside (paperset/app/crawl.py).
            self.outcomes = {}
            self.index = CLOSED
