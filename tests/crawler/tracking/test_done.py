"""When a request is done: its items have left the pipelines and (in a distributed run) its new
requests are in the shared queue; children dropped without a signal are settled when the crawl idles."""

from __future__ import annotations

from scrapy import Request
from scrapy.http import TextResponse
from scrapy.utils.test import get_crawler

from paperset.crawler.tracking.done import DoneTracker


def progress(track_children: bool) -> tuple[DoneTracker, list[tuple[str, list[str], bool]]]:
    crawler = get_crawler(settings_dict={"REMOTE_CONTROL_ENABLED": False})
    crawler.stats.open_spider()
    tracker = DoneTracker(crawler)
    tracker.track_children = track_children
    done: list[tuple[str, list[str], bool]] = []
    tracker.subscribe(lambda request, children, ok: done.append((request.url, [c.url for c in children], ok)))
    return tracker, done


def test_done_when_items_have_left_and_children_are_queued() -> None:
    tracker, done = progress(track_children=True)
    parent, child = Request("http://x/a"), Request("http://x/b")
    response = TextResponse("http://x/a", request=parent, body=b"")
    tracker.item_started(parent)
    tracker.item_started(parent)
    tracker.child_started(parent, child)
    tracker.output_done(parent, [child])
    tracker.item_left(response=response)
    tracker.item_error(response=response)
    assert done == []  # the child is not in the queue yet
    tracker.child_settled(child)
    assert done == [("http://x/a", ["http://x/b"], False)]  # an item failed: not ok
    assert tracker.crawler.stats.get_value("paperset/items/error") == 1


def test_without_child_tracking_items_alone_decide() -> None:
    tracker, done = progress(track_children=False)
    parent, child = Request("http://x/a"), Request("http://x/b")
    tracker.child_started(parent, child)
    tracker.output_done(parent, [child])
    assert done == [("http://x/a", ["http://x/b"], True)]


def test_children_dropped_without_a_signal_are_settled_by_the_idle_sweep() -> None:
    tracker, done = progress(track_children=True)
    parent, kept, lost = Request("http://x/a"), Request("http://x/b"), Request("http://x/" + "c" * 3000)
    for child in (kept, lost):
        tracker.child_started(parent, child)
    tracker.output_done(parent, [kept, lost])
    tracker.child_settled(kept)
    assert done == []
    assert tracker.sweep() == 1
    assert done == [("http://x/a", ["http://x/b", lost.url], True)]
    assert tracker.parent_of == {} and tracker.pending == {}
    assert tracker.crawler.stats.get_value("paperset/progress/children_dropped") == 1
    assert tracker.sweep() == 0


def test_resume_requests_continue_the_spools_ledger_only_when_resuming(tmp_path) -> None:
    import json

    from paperset.crawler.tracking.done import fingerprint, resume_requests, resumed_outcomes
    from paperset.spool.ledger import LEDGER

    seeds = [Request("http://x/a"), Request("http://x/b")]
    crawler = get_crawler(settings_dict={"REMOTE_CONTROL_ENABLED": False, "PAPERSET_SPOOL": str(tmp_path)})
    crawler.spider = crawler._create_spider("s")
    # Not resuming, no ledger: every seed, nothing settled.
    assert resumed_outcomes(crawler.settings) is None
    assert [r.url for r in resume_requests(crawler, seeds)] == ["http://x/a", "http://x/b"]
    (tmp_path / LEDGER).write_text(json.dumps({"fp": fingerprint(crawler, seeds[0]), "children": [],
                                               "settled": ["day", "2025-02-03", "complete", None]}) + "\n")
    # A ledger but no PAPERSET_RESUME: a fresh crawl all the same.
    assert [r.url for r in resume_requests(crawler, seeds)] == ["http://x/a", "http://x/b"]
    resuming = get_crawler(settings_dict={"REMOTE_CONTROL_ENABLED": False, "PAPERSET_SPOOL": str(tmp_path),
                                          "PAPERSET_RESUME": True})
    resuming.spider = resuming._create_spider("s")
    assert resumed_outcomes(resuming.settings) == [["day", "2025-02-03", "complete", None]]
    assert [r.url for r in resume_requests(resuming, seeds)] == ["http://x/b"]


def test_a_ledger_request_is_scrapys_to_dict_with_the_callback_names_looked_up_once() -> None:
    from scrapy import Request

    from paperset.crawler.spiders.hf_papers import HfPapersSpider
    from paperset.crawler.tracking.done import decode_request, encode_request, request_dict

    spider, other = HfPapersSpider.__new__(HfPapersSpider), HfPapersSpider.__new__(HfPapersSpider)
    asked = [Request("http://x/a?b=1", callback=spider.parse_api, errback=spider.api_failed, meta={"m": (1, 2)},
                     cb_kwargs={"k": [1]}, priority=3, dont_filter=True),
             Request("http://x/b", callback=spider.parse_page),
             Request("http://x/c")]
    for request in asked:
        want = request.to_dict(spider=spider)
        assert request_dict(request, spider) == want
        assert list(request_dict(request, spider)) == list(want)
        assert decode_request(encode_request(request, spider), spider).to_dict(spider=spider) == want
    # another instance's method: by name, as Scrapy does; a function that is no method: Scrapy's error
    stray = Request("http://x/d", callback=other.parse_api)
    assert request_dict(stray, spider) == stray.to_dict(spider=spider)
    assert request_dict(stray, spider)["callback"] == "parse_api"
    foreign = Request("http://x/e", callback=print)
    for call in (lambda: foreign.to_dict(spider=spider), lambda: request_dict(foreign, spider)):
        try:
            call()
        except ValueError as exc:
            assert "is not an instance method" in str(exc)
        else:
            raise AssertionError("expected ValueError")
