"""Distributed crawls with a real redis-server: 3 workers crawl a large replica (over 2,000 listing
pages) and publish the snapshot a single process makes of it, row for row, also when one worker is
killed with SIGKILL mid-crawl; the Redis password appears nowhere in what the run leaves."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from datetime import date
from pathlib import Path

import pytest

from paperset.crawler.replica.build import build_large
from paperset.crawler.replica.server import ReplicaServer
from tests.conftest import last_json, project_settings_dict, redis_server, run_paperset, snapshot_rows

pytestmark = [pytest.mark.redis, pytest.mark.slow]
PASSWORD = "s3cret-Pa55word"


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    """The 2025 replica: 248 days with papers, 50 weeks, 10 months of real corpus items."""
    folder = tmp_path_factory.mktemp("large-replica")
    index = build_large(folder, first=date(2025, 1, 6), last=date(2025, 12, 19))
    with ReplicaServer(folder) as server:
        yield server, index


def args_for(server: ReplicaServer, index: dict, root: Path) -> list[str]:
    # API pages of 5 entries: the 2025 days, weeks and months are more than 2,000 listing pages.
    listing = ["--range", f"{index['days'][0]}:{index['days'][-1]}"]
    for week in index["weeks"]:
        listing += ["--week", week]
    for month in index["months"]:
        listing += ["--month", month]
    return ["run", "--base-url", server.base_url, *listing, "--fetch", "api", "--out", str(root), "--json",
            "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "PAPERSET_API_PAGE_SIZE=5",
            "-s", "PAPERSET_BUDGET_API=0", "-s", "PAPERSET_BUDGET_PAGES=0", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4"]


def outcome(result: subprocess.CompletedProcess[str]) -> dict:
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return last_json(result.stdout)


@pytest.fixture(scope="module")
def single(large, tmp_path_factory):
    server, index = large
    server.timed.clear()
    result = outcome(run_paperset(*args_for(server, index, tmp_path_factory.mktemp("single")), timeout=900))
    api_pages = sum(1 for _, path, _ in server.timed if path.startswith("/api/"))
    return result, api_pages


def kill_one_worker_when(server: ReplicaServer, after: int, root: Path, killed: list[int]) -> None:
    """Wait until the replica has answered `after` requests, then SIGKILL the first local worker, by the PID
    the run's `workers.json` reports (never a process found by name: other runs may share the machine)."""
    deadline = time.monotonic() + 300  # a guard against a run that never gets there, not a timing
    while len(server.timed) < after and time.monotonic() < deadline:
        time.sleep(0.01)
    [workers] = list(root.glob("*/.runs/*/workers.json"))
    pid = json.loads(workers.read_text())[0]["pid"]
    os.kill(pid, signal.SIGKILL)
    killed.append(pid)


@pytest.mark.parametrize("kill", [False, True], ids=["three-workers", "one-killed"])
def test_three_workers_publish_the_single_process_snapshot(large, single, tmp_path, kill) -> None:
    server, index = large
    one, api_pages = single
    assert api_pages >= 2000
    server.timed.clear()
    killed: list[int] = []
    watcher = None
    with redis_server(tmp_path, password=PASSWORD) as url:
        if kill:
            watcher = threading.Thread(target=kill_one_worker_when,
                                       args=(server, api_pages // 3, tmp_path / "out", killed), daemon=True)
            watcher.start()
        env_args = [*args_for(server, index, tmp_path / "out"), "--redis", url, "--workers", "3"]
        many = outcome(run_paperset(*env_args, timeout=900))
        if watcher is not None:
            watcher.join()
    assert len(killed) == int(kill)
    crawl = many["crawl"]
    assert crawl["finish_reason"] == "finished"
    assert snapshot_rows(Path(many["path"])) == snapshot_rows(Path(one["path"]))
    assert (many["papers"], many["observations"]) == (one["papers"], one["observations"])
    assert many["papers"] == index["papers"]
    # The real near copies of 2025 were found across workers and named alike.
    def clusters(outcome: dict) -> list[tuple[str, str]]:
        return [(r["paper_key"], r["cluster_id"]) for r in snapshot_rows(Path(outcome["path"]))["papers"]
                if r["cluster_id"]]

    assert clusters(many) == clusters(one)
    run_dir = Path(crawl["run"])
    logs = sorted(run_dir.glob("worker-*.log"))
    assert len(logs) == 3 + int(kill)  # a killed worker is replaced
    started = json.loads((run_dir / "workers.json").read_text())
    assert [(w["worker_id"], w["log"]) for w in started] == [
        (f"{run_dir.name}-w{i}", f"worker-{i}.log") for i in range(3 + int(kill))]
    assert len({w["pid"] for w in started}) == 3 + int(kill) and killed == [w["pid"] for w in started][:int(kill)]
    # Nothing lost, nothing twice: every API page the replica has was answered, and at most the
    # requests in flight in the killed worker were asked again.
    asked = [path for _, path, status in server.timed if path.startswith("/api/") and status == 200]
    assert set(asked) == {path for _, path, _ in server.timed if path.startswith("/api/")}
    assert len(set(asked)) == api_pages
    # Asked again: the killed worker's claims not yet acknowledged: those in its downloader
    # (CONCURRENT_REQUESTS), the ones it claimed ahead, and those done since its last claim carried the
    # acknowledgements (at most a claim batch).
    from paperset.crawler.distributed.queue import CLAIM_AHEAD, CLAIM_BATCH_MAX
    from paperset.crawler.settings import CONCURRENT_REQUESTS

    again = CONCURRENT_REQUESTS + CLAIM_AHEAD + CLAIM_BATCH_MAX
    assert len(asked) - len(set(asked)) <= (again if kill else 0)
    # The password is nowhere: not in logs, spool, rejects, card or manifest.
    for path in [*run_dir.rglob("*"), *Path(many["path"]).rglob("*")]:
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path


def test_dead_workers_claims_go_back_marked_redo_and_drained_sees_them(tmp_path) -> None:
    import pickle

    import redis

    from paperset.crawler.distributed.queue import drained, keys, release_dead
    from paperset.crawler.tracking.done import REDO

    with redis_server(tmp_path) as url:
        server = redis.Redis.from_url(url)
        names = keys("t")
        request = pickle.dumps({"url": "http://x/api/daily_papers?date=2025-02-03", "meta": {"a": 1}})
        assert drained(server, "t")
        server.hset(names["claims:"] + "w1", "c1", request)
        server.sadd(names["workers"], "w1")  # what a worker's first claim or heartbeat does
        server.set(names["alive:"] + "w1", "1", ex=15)
        assert not drained(server, "t")
        assert release_dead(server, "t") == 0  # alive: its claims stay
        server.delete(names["alive:"] + "w1")
        assert release_dead(server, "t") == 1
        assert server.hlen(names["claims:"] + "w1") == 0
        [back] = server.lrange(names["requests"], 0, -1)
        assert pickle.loads(back)["meta"] == {"a": 1, REDO: True}
        assert not drained(server, "t")
        server.delete(names["requests"])
        assert drained(server, "t")


def test_remote_workers_join_a_run_that_waits_for_them(tmp_path) -> None:
    """`run --workers 0` seeds and waits; two `paperset worker`s started apart (as on other machines,
    the URL in their environment) crawl it; the snapshot is the single-process one."""
    with ReplicaServer() as replica:
        # A site slow enough, and one request at a time per worker, so that the worker that starts
        # second still finds requests in the queue (0.1 s a request, 3.3 s of crawl, was once not enough
        # for a second worker starting on a loaded machine: one worker fetched all 33 pages).
        replica.delay_s = 0.25
        remote_run(tmp_path, replica)


def remote_run(tmp_path: Path, replica: ReplicaServer) -> None:
    from tests.conftest import ROOT

    days = "2025-02-03:2025-02-14"
    base = ["run", "--base-url", replica.base_url, "--range", days, "--fetch", "api", "--json",
            "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "PAPERSET_API_PAGE_SIZE=5", "--name", "remote",
            "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1"]
    one = outcome(run_paperset(*base, "--out", str(tmp_path / "single")))
    with redis_server(tmp_path) as url:
        env = {**os.environ, "PAPERSET_REDIS_URL": url}
        workers = [subprocess.Popen([str(ROOT / ".venv/bin/paperset"), "worker", "--name", "remote", "--wait", "60"],
                                    cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for _ in range(2)]
        many = outcome(subprocess.run([str(ROOT / ".venv/bin/paperset"), *base, "--out", str(tmp_path / "many"),
                                       "--workers", "0"], cwd=ROOT, env=env, capture_output=True, text=True,
                                      timeout=300))
        reports = [worker.communicate(timeout=60)[0] for worker in workers]
    assert [w.returncode for w in workers] == [0, 0]
    assert all(report.startswith("paperset worker: ") and report.strip().endswith("(finished)")
               for report in reports)
    assert many["crawl"]["finish_reason"] == "finished"
    assert snapshot_rows(Path(many["path"])) == snapshot_rows(Path(one["path"]))
    assert many["crawl"]["papers"] == one["papers"]
    pages = sorted(int(r.split()[2]) for r in reports)
    assert sum(pages) == many["crawl"]["pages_fetched"] and pages[0] > 0


def test_a_worker_without_a_run_to_join_says_so(tmp_path) -> None:
    from tests.conftest import ROOT

    with redis_server(tmp_path, password=PASSWORD) as url:
        result = subprocess.run([str(ROOT / ".venv/bin/paperset"), "worker", "--name", "nothing", "--wait", "0.5",
                                 "--redis", url], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "no run of 'nothing' in redis://***@127.0.0.1:" in result.stderr
    assert PASSWORD not in result.stderr


def test_children_a_spider_middleware_drops_do_not_hold_the_run(tmp_path, replica) -> None:
    """DEPTH_LIMIT drops the next API pages after the callback made them, with no signal: the workers
    still drain the queue and the run publishes (asked to, with --allow-partial: the listings cut short
    are incomplete) what a single process publishes."""
    base = ["run", "--base-url", replica.base_url, "--range", "2025-02-03:2025-02-07", "--fetch", "api", "--json",
            "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "PAPERSET_API_PAGE_SIZE=5", "-s", "DEPTH_LIMIT=1",
            "--allow-partial"]
    one = outcome(run_paperset(*base, "--out", str(tmp_path / "single")))
    with redis_server(tmp_path) as url:
        many = outcome(run_paperset(*base, "--out", str(tmp_path / "many"), "--redis", url, "--workers", "2",
                                    timeout=240))
    assert many["crawl"]["finish_reason"] == "finished"
    # Two API pages of 5 per day at most (depth 0 and 1), 5 days.
    days = ["2025-02-03", "2025-02-04", "2025-02-05", "2025-02-06", "2025-02-07"]
    want = sum(min(len(replica.site.items("day", day)), 10) for day in days)
    assert one["papers"] == many["papers"] == want < sum(len(replica.site.items("day", day)) for day in days)
    assert snapshot_rows(Path(many["path"])) == snapshot_rows(Path(one["path"]))
    # The coverage the workers recorded in Redis is the single process's: the cut listings incomplete.
    assert many["crawl"]["coverage"] == one["crawl"]["coverage"]
    assert "incomplete" in {r["status"] for r in many["crawl"]["coverage"]}


def test_a_distributed_run_with_an_incomplete_listing_publishes_nothing(tmp_path) -> None:
    """Workers record each listing's outcome in Redis as they settle it (the coordinator too, for a seed
    too long to ask): one listing failing for good makes the run `incomplete`, exit 5, nothing published."""
    with ReplicaServer() as server, redis_server(tmp_path) as url:
        server.add_fault(r"^/api/daily_papers\?date=2025-02-04&", "status", status=500)
        result = run_paperset("run", "--base-url", server.base_url, "--range", "2025-02-03:2025-02-06",
                              "--search", "x" * 5000, "--fetch", "api", "--json", "--out", str(tmp_path / "ds"),
                              "--redis", url, "--workers", "2", "-s", "AUTOTHROTTLE_ENABLED=False",
                              "-s", "RETRY_TIMES=0", timeout=240)
    assert result.returncode == 5, result.stderr[-3000:]
    record = last_json(result.stdout)
    assert (record["outcome"], record["version"]) == ("incomplete", None)
    statuses = {(r["kind"], r["key"][:10]): (r["status"], (r["reason"] or "").split(" ")[0])
                for r in record["crawl"]["coverage"]}
    assert statuses == {("day", "2025-02-03"): ("complete", ""), ("day", "2025-02-04"): ("incomplete", "api:"),
                        ("day", "2025-02-05"): ("complete", ""), ("day", "2025-02-06"): ("complete", ""),
                        ("search", "x" * 10): ("incomplete", "url_too_long")}
    assert not [p for p in (tmp_path / "ds" / "hf-papers").iterdir() if p.name[0].isdigit()]


def test_the_environment_url_alone_does_not_make_a_run_distributed(tmp_path, replica) -> None:
    """$PAPERSET_REDIS_URL set for the workers' sake (here: nothing listens there) leaves a run without
    --workers in one process; with --workers it is used."""
    from tests.conftest import ROOT

    env = {**os.environ, "PAPERSET_REDIS_URL": "redis://127.0.0.1:9/0"}
    base = [str(ROOT / ".venv/bin/paperset"), "run", "--base-url", replica.base_url, "--day", "2025-02-03",
            "--out", str(tmp_path), "--json", "-s", "AUTOTHROTTLE_ENABLED=False"]
    alone = subprocess.run(base, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert alone.returncode == 0, alone.stderr[-2000:]
    run_dir = Path(last_json(alone.stdout)["crawl"]["run"])
    assert (run_dir / "crawl.log").exists() and not list(run_dir.glob("worker-*.log"))
    many = subprocess.run([*base, "--workers", "1"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert many.returncode == 1
    assert many.stderr.startswith("paperset run: Redis at redis://127.0.0.1:9/0 failed (Error 111 connecting")
    assert many.stderr.rstrip().endswith("nothing was published")


def test_the_schedulers_new_requests_go_with_the_next_claim_and_duplicates_are_counted(tmp_path) -> None:
    """Enqueuing costs no round trip: the requests go to Redis with the next claim, which takes them back;
    a duplicate is not queued (its claim released), a dont_filter one always is, and the dupefilter's
    and the scheduler's stats count what happened."""
    from types import SimpleNamespace

    import redis
    from scrapy import Request, Spider
    from scrapy.utils.test import get_crawler

    from paperset.app.workers import worker_settings
    from paperset.crawler.distributed.queue import CLAIM_META, ClaimingScheduler, keys

    with redis_server(tmp_path) as url:
        server = redis.Redis.from_url(url)
        names = keys("t")
        crawler = get_crawler(Spider, project_settings_dict(**worker_settings(url, "t", "w1", {}), LOG_LEVEL="ERROR"))
        crawler.spider = crawler._create_spider("s")
        scheduler = ClaimingScheduler.from_crawler(crawler)
        scheduler.open(crawler.spider)
        server.hset(names["claims:"] + "w1", mapping={"c1": b"x", "c2": b"y"})
        first = Request("http://127.0.0.1/a", meta={CLAIM_META: "c1"})
        again = Request("http://127.0.0.1/a", meta={CLAIM_META: "c2"})
        server.config_resetstat()
        assert scheduler.enqueue_request(first) is True
        assert scheduler.enqueue_request(again) is True  # known for a duplicate only with the next claim
        assert scheduler.enqueue_request(Request("http://127.0.0.1/a", dont_filter=True)) is True
        assert CLAIM_META not in first.meta and CLAIM_META not in again.meta
        assert set(server.info("commandstats")) == {"cmdstat_config|resetstat"}  # no round trip yet
        assert server.llen(names["requests"]) == 0
        assert scheduler.has_pending_requests()
        # A downloader with one free slot of 8 (the claim takes it and CLAIM_AHEAD more).
        crawler.engine = SimpleNamespace(downloader=SimpleNamespace(total_concurrency=8, active=set(range(7))))
        taken = [scheduler.next_request(), scheduler.next_request(), scheduler.next_request()]
        assert [r and r.url for r in taken] == ["http://127.0.0.1/a", "http://127.0.0.1/a", None]
        assert server.scard(names["dupefilter"]) == 1
        assert sorted(server.hvals(names["claims:"] + "w1")) == sorted(
            server.hget(names["claims:"] + "w1", r.meta[CLAIM_META]) for r in taken[:2])  # c1, c2 released
        assert len(server.hkeys(names["claims:"] + "w1")) == 2
        assert crawler.stats.get_value("scheduler/enqueued/redis") == 2
        assert crawler.stats.get_value("dupefilter/filtered") == 1


def test_a_claim_takes_the_downloaders_room_and_claim_ahead_more_and_encodes_as_scrapy_redis(tmp_path,
                                                                                           monkeypatch) -> None:
    """One claim takes the downloader's free slots plus CLAIM_AHEAD (at most CLAIM_BATCH_MAX), the rest held
    claimed; requests are encoded byte for byte as scrapy-redis encodes them, a callback bound after the
    queue opened included."""
    import inspect
    from types import MethodType, SimpleNamespace

    import redis
    from scrapy import Request
    from scrapy.utils.test import get_crawler
    from scrapy_redis.queue import FifoQueue

    from paperset.app.workers import worker_settings
    from paperset.crawler.distributed.queue import CLAIM_AHEAD, CLAIM_BATCH_MAX, ClaimingScheduler, keys
    from paperset.crawler.spiders.hf_papers import HfPapersSpider

    with redis_server(tmp_path) as url:
        server = redis.Redis.from_url(url)
        names = keys("t")
        crawler = get_crawler(HfPapersSpider, project_settings_dict(**worker_settings(url, "t", "w1", {}),
                                                                    LOG_LEVEL="ERROR"))
        crawler.spider = crawler._create_spider(day="2025-01-06")
        scheduler = ClaimingScheduler.from_crawler(crawler)
        scheduler.open(crawler.spider)
        queue = scheduler.queue
        spider = crawler.spider
        spider.late = MethodType(lambda self, response: None, spider)
        made = [Request(f"http://127.0.0.1/{n}", callback=spider.parse_api, errback=spider.api_failed,
                        cb_kwargs={"n": n}, meta={"k": n}) for n in range(10)]
        made.append(Request("http://127.0.0.1/late", callback=spider.late))
        scanned: list[bool] = []  # for each listing of members Scrapy's to_dict makes: was it the spider's?
        listing = inspect.getmembers
        monkeypatch.setattr(inspect, "getmembers",
                            lambda obj, *a, **k: scanned.append(obj is spider) or listing(obj, *a, **k))
        for request in made:
            encoded = queue._encode_request(request)
            assert scanned.count(True) == (request.url.endswith("late"))  # Scrapy's own search: the late one only
            scanned.clear()
            assert encoded == FifoQueue._encode_request(queue, request)
            scanned.clear()
        queue.push_seeds(made)
        assert CLAIM_AHEAD == 4 and CLAIM_BATCH_MAX == 8
        active = set(range(7))
        crawler.engine = SimpleNamespace(downloader=SimpleNamespace(total_concurrency=8, active=active))
        first = scheduler.next_request()
        assert first.url == "http://127.0.0.1/0" and first.callback == spider.parse_api
        assert first.cb_kwargs == {"n": 0} and first.errback == spider.api_failed
        assert server.hlen(names["claims:"] + "w1") == 1 + CLAIM_AHEAD  # one free slot, four ahead
        assert server.llen(names["requests"]) == 11 - 5
        for _ in range(4):
            scheduler.next_request()
        active.clear()  # all eight free: eight at most
        assert scheduler.next_request().url == "http://127.0.0.1/5"
        assert server.hlen(names["claims:"] + "w1") == 5 + 6 and server.llen(names["requests"]) == 0
        assert [scheduler.next_request().url for _ in range(5)][-1] == "http://127.0.0.1/late"


def test_a_runs_first_requests_are_queued_in_one_round_trip_in_order(tmp_path) -> None:
    import redis
    from scrapy_redis import picklecompat

    from paperset.app.workers import seed
    from paperset.crawler.distributed.queue import keys

    with redis_server(tmp_path) as url:
        server = redis.Redis.from_url(url)
        server.config_resetstat()
        days = [f"2025-01-{d:02d}" for d in range(6, 16)]
        assert seed(server, url, "t", {"day": days, "base_url": "http://127.0.0.1:9"}, {}) == 10
        assert server.info("commandstats")["cmdstat_lpush"]["calls"] == 1
        queued = [picklecompat.loads(data)["url"] for data in reversed(server.lrange(keys("t")["requests"], 0, -1))]
        assert [u.split("date=")[1].split("&")[0] for u in queued] == days
