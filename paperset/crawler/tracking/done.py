"""Knowing when a request is done, for crash-safe resume and for acknowledging shared-queue work.

A request is done when its callback (or errback) has returned and every item it gave has left the
item pipelines. `DoneTracker` then tells its listeners: the spool records it in its ledger at the next
flush (so a ledger line never names a request whose entries are not on disk), and a Redis worker
acknowledges it. Scrapy's own `JOBDIR` is not used for this: its disk queue and seen-requests file
are only consistent after a graceful stop, and a run killed with SIGKILL must resume as well.

The ledger (`ledger.jsonl` in the spool, paperset/spool/ledger.py) holds, per done request, its fingerprint and
the requests its callback made; `resume_frontier` replays it from the seed requests and yields only the requests
whose outcome is not on disk.
"""

from __future__ import annotations

import base64
import functools
import logging
import pickle
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.settings import BaseSettings
from scrapy.utils.misc import load_object
from scrapy.utils.request import request_from_dict

from paperset.crawler.settings.fields import FromSettings, setting
from paperset.crawler.tracking.coverage import INCOMPLETE, SETTLED
from paperset.spool.ledger import LEDGER, ledger_record, read_ledger, read_settled

logger = logging.getLogger(__name__)

Listener = Callable[[Request, list[Request], bool], None]
# Set on a request whose outcome is not known (the site asked for too long a wait, the crawl is
# stopping): its callback or errback is skipped and it is never done, so a resumed run asks again.
UNFINISHED = "paperset_unfinished"
# Set on a request put back in a shared queue because the worker that had it died.
REDO = "paperset_redo"


class DoneTracker:
    """Counts, per request in progress, its items still in the pipelines (and, with `track_children`,
    its new requests not yet in the scheduler's queue); tells listeners `(request, children, ok)` when
    none is left. `ok` is false when an item failed in a pipeline (counted `paperset/items/error`)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.track_children = False
        self.pending: dict[int, int] = {}
        self.parent_of: dict[int, int] = {}
        self.failed: set[int] = set()
        self.finished: dict[int, tuple[Request, list[Request]]] = {}
        self.listeners: list[Listener] = []
        # The items in the pipelines, by id, with their request's key: the item processor
        # (paperset/crawler/tracking/items_left.py) tells `item_out` when each leaves, without a signal per item.
        self.owners: dict[int, int] = {}
        self.told_by_processor = bool(getattr(load_object(crawler.settings["ITEM_PROCESSOR"]),
                                              "tells_done_tracker", False))
        if not self.told_by_processor:
            for signal in (signals.item_scraped, signals.item_dropped):
                crawler.signals.connect(self.item_left, signal=signal)
            crawler.signals.connect(self.item_error, signal=signals.item_error)
        crawler.signals.connect(self.child_settled, signal=signals.request_dropped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DoneTracker:
        return cls(crawler)

    def subscribe(self, listener: Listener) -> None:
        self.listeners.append(listener)

    def item_started(self, request: Request) -> None:
        self.pending[id(request)] = self.pending.get(id(request), 0) + 1

    def child_started(self, request: Request, child: Request) -> None:
        if self.track_children:
            self.pending[id(request)] = self.pending.get(id(request), 0) + 1
            self.parent_of[id(child)] = id(request)

    def child_settled(self, request: Request, **_: Any) -> None:
        """A new request is in the shared queue, or was dropped by the scheduler (a duplicate)."""
        parent = self.parent_of.pop(id(request), None)
        if parent is not None and parent in self.pending:
            self.pending[parent] -= 1
            self._check(parent)

    def output_done(self, request: Request, children: list[Request]) -> None:
        self.finished[id(request)] = (request, children)
        self._check(id(request))

    def item_left(self, item: Any = None, response: Any = None, **_: Any) -> None:
        request = getattr(response, "request", None)
        if request is None:
            return
        key = id(request)
        if key in self.pending:
            self.pending[key] -= 1
            self._check(key)

    def item_out(self, item: Any, *, ok: bool, errors: int = 1) -> None:
        """An item left the pipelines: passed or dropped (ok), or failed in one (counted, as every item
        error is, whether or not a tracked callback made it; `errors`: a batch's entries that failed)."""
        if not ok:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("paperset/items/error", errors)
        key = self.owners.pop(id(item), None)
        if key is None:
            return
        if not ok:
            self.failed.add(key)
        if key in self.pending:
            self.pending[key] -= 1
            self._check(key)

    def item_error(self, item: Any = None, response: Any = None, **_: Any) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("paperset/items/error")
        request = getattr(response, "request", None)
        if request is not None:
            self.failed.add(id(request))
            self.item_left(item, response)

    def sweep(self) -> int:
        """Settle the requests still waiting for children when the crawl is idle: a spider middleware
        (URL length, depth) dropped those children after the callback made them, without a signal.
        Called only when no response or item is in progress. How many were settled."""
        stuck = {key for key in self.finished if self.pending.get(key, 0) > 0}
        self.parent_of = {child: parent for child, parent in self.parent_of.items() if parent not in stuck}
        for key in stuck:
            self.pending[key] = 0
            self._check(key)
        if stuck:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("paperset/progress/children_dropped", len(stuck))
        return len(stuck)

    def _check(self, key: int) -> None:
        if self.pending.get(key, 0) > 0 or key not in self.finished:
            return
        self.pending.pop(key, None)
        request, children = self.finished.pop(key)
        ok = key not in self.failed
        self.failed.discard(key)
        for listener in self.listeners:
            listener(request, children, ok)


def tracker_for(crawler: Crawler) -> DoneTracker:
    """The crawler's one DoneTracker (an extension), shared by the spider and the components that listen
    to it; a clear error when the extension is not enabled."""
    tracker = crawler.get_extension(DoneTracker)
    if tracker is None:
        raise RuntimeError("knowing when requests are done needs the extension "
                           "paperset.crawler.tracking.done.DoneTracker "
                           "in EXTENSIONS (paperset.crawler.settings lists it)")
    return tracker


def tracked(method: Callable[..., Iterable[Any] | None]) -> Callable[..., Iterator[Any]]:
    """Wraps a spider callback or errback so that DoneTracker learns its items, its new requests, and
    when it is over (also when it raises: the error is Scrapy's to report, the request is over). A
    request marked UNFINISHED is skipped and never over."""

    @functools.wraps(method)
    def wrapper(self: Spider, result: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        request: Request = result.request
        if request.meta.get(UNFINISHED):
            return
        progress = tracker_for(self.crawler)
        children: list[Request] = []
        # Per item only a count goes up (DoneTracker.item_started inlined: a page has a hundred entries).
        pending, key, redo = progress.pending, id(request), request.meta.get(REDO)
        owners = progress.owners if progress.told_by_processor else None
        try:
            for out in method(self, result, *args, **kwargs) or ():
                if isinstance(out, Request):
                    if redo:
                        # Redone after its worker died: the dupefilter may have seen a child that never
                        # reached the queue, so the children are asked for whatever it says.
                        out = out.replace(dont_filter=True)
                    children.append(out)
                    progress.child_started(request, out)
                else:
                    pending[key] = pending.get(key, 0) + 1
                    if owners is not None:
                        owners[id(out)] = key
                yield out
        finally:
            progress.output_done(request, children)

    return wrapper


def fingerprint(crawler: Crawler, request: Request) -> str:
    assert crawler.request_fingerprinter is not None
    return crawler.request_fingerprinter.fingerprint(request).hex()


def encode_request(request: Request, spider: Spider) -> str:
    """A request as text (a pickled `Request.to_dict`: callbacks by name, cb_kwargs as objects)."""
    return base64.b64encode(pickle.dumps(request_dict(request, spider), protocol=4)).decode("ascii")


# The name of each spider method used as a callback, by (spider class, function): `Request.to_dict` finds
# it by listing the spider's members (`inspect.getmembers`), for every request, twice.
_METHOD_NAMES: dict[tuple[type, Any], str] = {}


def request_dict(request: Request, spider: Spider) -> dict[str, Any]:
    """`request.to_dict(spider=spider)`, its callback and errback names looked up once per spider class."""
    names = {}
    for role in ("callback", "errback"):
        method = getattr(request, role)
        if not callable(method):
            continue
        if getattr(method, "__self__", None) is not spider:
            return request.to_dict(spider=spider)  # not the spider's own method: Scrapy's lookup (and error)
        key = (type(spider), method.__func__)  # type: ignore[attr-defined]
        if key not in _METHOD_NAMES:
            _METHOD_NAMES[key] = Request(request.url, **{role: method}).to_dict(spider=spider)[role]
        names[role] = _METHOD_NAMES[key]
    return {**request.replace(callback=None, errback=None).to_dict(), **names}


def decode_request(text: str, spider: Spider) -> Request:
    data = pickle.loads(base64.b64decode(text))  # noqa: S301 - written by encode_request, in our spool
    return request_from_dict(data, spider=spider)


def ledger_line(crawler: Crawler, request: Request, children: list[Request]) -> str:
    """The ledger line of a done request, with the listing outcome it settled (complete or empty); empty
    for a request that left its listing incomplete: it is not done, a resumed crawl asks it again."""
    spider = crawler.spider
    assert spider is not None
    settled = request.meta.get(SETTLED)
    if settled and settled[2] == INCOMPLETE:
        return ""
    return ledger_record(fingerprint(crawler, request), [encode_request(child, spider) for child in children],
                         settled)


def resume_frontier(crawler: Crawler, seeds: Iterable[Request],
                    done: dict[str, list[str]]) -> Iterator[Request]:
    """The requests still to make: seeds and, below done requests, their children, recursively."""
    spider = crawler.spider
    assert spider is not None
    stack = list(seeds)[::-1]
    seen: set[str] = set()
    skipped = 0
    while stack:
        request = stack.pop()
        fp = fingerprint(crawler, request)
        if fp in seen:
            continue
        seen.add(fp)
        if fp in done:
            skipped += 1
            stack.extend(decode_request(text, spider) for text in reversed(done[fp]))
            continue
        yield request
    if crawler.stats is not None:
        crawler.stats.set_value("paperset/resume/skipped_requests", skipped)


@dataclass(frozen=True)
class ResumeConfig(FromSettings):
    """Where the crawl's spool is (`PAPERSET_SPOOL`) and whether the crawl continues it (`PAPERSET_RESUME`)."""

    spool: str = setting("PAPERSET_SPOOL")
    resume: bool = setting("PAPERSET_RESUME")


def resume_ledger(settings: BaseSettings) -> Path | None:
    """The spool's ledger when the crawl continues it; None when the crawl starts afresh (not resuming, or
    nothing done yet)."""
    config = ResumeConfig.from_settings(settings)
    ledger = Path(config.spool or ".") / LEDGER
    return ledger if config.resume and ledger.exists() else None


def resumed_outcomes(settings: BaseSettings) -> list[list[Any]] | None:
    """The listing outcomes a resumed crawl's ledger has settled; None when the crawl starts afresh."""
    ledger = resume_ledger(settings)
    return None if ledger is None else read_settled(ledger)


def resume_requests(crawler: Crawler, seeds: Iterable[Request]) -> Iterator[Request]:
    """The requests a crawl makes: with a ledger to continue, those whose outcome is not on disk
    (`resume_frontier`); else the seeds."""
    ledger = resume_ledger(crawler.settings)
    if ledger is None:
        yield from seeds
        return
    done = read_ledger(ledger)
    logger.info("resuming: %d requests already done (%s)", len(done), ledger)
    yield from resume_frontier(crawler, seeds, done)
