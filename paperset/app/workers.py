"""Running a distributed crawl: `paperset worker` (one crawl process fed by the shared Redis queue) and
the coordinator `paperset run --redis URL --workers N` uses (publish the plan, seed the queue, start
local workers, drain their entries into the run's spool, put dead workers' requests back, and stop
when the queue is drained)."""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy.crawler import Crawler
from scrapy.settings import Settings
from scrapy.statscollectors import MemoryStatsCollector

from paperset.app.config import AppConfig
from paperset.app.crawl import CrawlJob, crawl_settings, run_crawl
from paperset.app.exits import REDIS_ENV, BadInput, Exit, redis_named, report_failure
from paperset.crawler.distributed.keys import keys
from paperset.crawler.distributed.queue import (
    HEARTBEAT_TTL_S,
    ClaimingQueue,
    coverage_report,
    coverage_sink,
    drained,
    release_dead,
    worker_id,
    workers_alive,
)
from paperset.crawler.tracking.coverage import STAT, STATUSES, listing_settled
from paperset.crawler.tracking.done import DoneTracker
from paperset.spool.redact import redact
from paperset.spool.writer import write_json_atomic

if TYPE_CHECKING:
    from paperset.app.local_worker import WorkerProcess, WorkerSpec

logger = logging.getLogger(__name__)

# In the run folder: the local workers started so far (worker id, PID, log file), replaced ones included.
WORKERS_FILE = "workers.json"
POLL_S = 0.3


def worker_settings(url: str, name: str, worker: str, plan_settings: dict[str, Any]) -> dict[str, Any]:
    """The settings that make a crawl process a worker of dataset `name`'s run: the run's plan settings (but
    the coordinator's local files) and the three that switch the worker add-on on
    (paperset/crawler/distributed/addon.py: everything a worker changes)."""
    local = ("LOG_FILE", "LOG_FILE_APPEND", "PAPERSET_SPOOL", "PAPERSET_REJECTS", "PAPERSET_RESUME")
    return {**{k: v for k, v in plan_settings.items() if k not in local},
            "REDIS_URL": url, "PAPERSET_REDIS_NAME": name, "PAPERSET_WORKER_ID": worker}


def run_worker(url: str, name: str, *, worker: str | None = None, wait_s: float = 60.0,
               log_file: str | None = None) -> dict[str, Any]:
    """Wait for a run of dataset `name` to be published in Redis, crawl from its queue until it is
    drained, and return this worker's stats."""
    import redis

    server = redis.Redis.from_url(url)
    deadline = time.monotonic() + wait_s
    while (raw := server.get(keys(name)["plan"])) is None:
        if time.monotonic() > deadline:
            raise BadInput(f"no run of {name!r} in {redact(url)} after {wait_s:.0f} s")
        time.sleep(POLL_S)
    plan = json.loads(raw)
    worker = worker or worker_id()
    settings = worker_settings(url, name, worker, plan["settings"])
    if log_file:
        settings.update(LOG_FILE=log_file, LOG_FILE_APPEND=True)
    job = CrawlJob(settings=settings, base_url=plan["spider"].get("base_url"))  # the run's site (its checks)
    return run_crawl(job, spider_kwargs={**plan["spider"], "worker": True})


def worker_main(spec: WorkerSpec) -> int:
    """A forked local worker's whole life: `run_worker_spec`, a failure reported from the exit table
    (paperset/app/exits.py) as the command line's `main` reports it (one line on stderr, its exit code)."""
    try:
        return run_worker_spec(spec)
    except (Exception, KeyboardInterrupt) as exc:
        return report_failure("worker", exc, as_json=False)


def run_worker_spec(spec: WorkerSpec) -> int:
    """`paperset worker`: the crawl, its one-line summary and its exit code (failures raised)."""
    from paperset.crawler.extensions.summary import summarize

    url = spec.url or os.environ.get(REDIS_ENV)
    if not url:
        raise BadInput("give --redis URL or set PAPERSET_REDIS_URL")
    with redis_named(url):
        stats = run_worker(url, spec.name, worker=spec.worker_id, wait_s=spec.wait_s, log_file=spec.log_file)
    summary = summarize(stats, elapsed=0.0, out=None)
    print(f"paperset worker: {summary['pages_fetched']} pages, {summary['entries_found']} entries "
          f"({summary['finish_reason']})")
    return Exit.OK if summary["finish_reason"] == "finished" else Exit.FAILED


def seed(server: Any, url: str, name: str, spider_kwargs: dict[str, Any], plan_settings: dict[str, Any]) -> int:
    """Queue the first request of every listing (through the same queue class the workers use)."""
    from paperset.crawler.spiders.hf_papers import HfPapersSpider

    settings = crawl_settings(CrawlJob(settings=worker_settings(url, name, "coordinator", plan_settings)))
    crawler = Crawler(HfPapersSpider, settings)
    crawler.stats = MemoryStatsCollector(crawler)  # this crawler never starts; seeding may count
    spider = HfPapersSpider.from_crawler(crawler, **spider_kwargs)
    record = coverage_sink(server, name)  # a listing settled now (url_too_long) is recorded
    crawler.signals.connect(record, signal=listing_settled)
    queue = ClaimingQueue(server, spider, keys(name)["requests"], tracker=DoneTracker(crawler))
    seeds = spider.seed_requests()
    queue.push_seeds(seeds)
    return len(seeds)


def drain(server: Any, key: str, write: Any) -> int:
    """Move every line of a Redis list into `write`, oldest first; the list is trimmed only after."""
    moved = 0
    while batch := server.lrange(key, 0, 999):
        for data in batch:
            write(data)
        server.ltrim(key, len(batch), -1)
        moved += len(batch)
    return moved


def distinct_papers(spool: Path) -> int:
    """Papers in a spool: distinct paper keys."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from paperset.spool.reader import spool_tables

    keys = [pc.unique(table.column("paper_key")) for table in spool_tables(spool)]
    return len(pc.unique(pa.chunked_array(keys, pa.string()))) if keys else 0


def merge_stats(server: Any, name: str) -> tuple[dict[str, Any], list[str]]:
    """The workers' stats added up, and each worker's finish reason."""
    total: Counter[str] = Counter()
    reasons: list[str] = []
    for raw in server.hvals(keys(name)["stats"]):
        report = json.loads(raw)
        reasons.append(report["reason"])
        total.update(report["stats"])
    return dict(total), reasons


class Coordinator:
    """Runs one distributed crawl of `job` into `run_dir/spool` with `workers` local workers
    (0: only remote ones, started elsewhere with `paperset worker --name NAME`)."""

    def __init__(self, job: CrawlJob, url: str, name: str, workers: int, run_dir: Path,
                 settings: Settings | None = None) -> None:
        import redis

        self.job, self.url, self.name, self.workers, self.run_dir = job, url, name, workers, run_dir
        self.settings = settings if settings is not None else crawl_settings(job)
        self.server = redis.Redis.from_url(url)
        self.keys = keys(name)
        self.procs: list[WorkerProcess] = []
        self.restarts = 0
        # How long remote workers may all be silent while work is left (`--workers 0`).
        self.grace_s = 2.0 * HEARTBEAT_TTL_S

    def publish_plan(self) -> int:
        # A new run starts with an empty queue, seen-set and claims; the budget bookings and closed hosts
        # of earlier runs stay (the site's window does not care which run made the requests).
        for part, key in self.keys.items():
            for found in (self.server.scan_iter(match=key + "*") if part.endswith(":") else [key]):
                self.server.delete(found)
        spider = self.job.spider_kwargs()
        self.server.set(self.keys["plan"], json.dumps({"spider": spider, "settings": self.job.settings}))
        return seed(self.server, self.url, self.name, spider, self.job.settings)

    def start_worker(self) -> None:
        index = len(self.procs)
        log = self.run_dir / f"worker-{index}.log"
        from paperset.app.local_worker import WorkerSpec, start_local_worker

        spec = WorkerSpec(self.name, worker_id=f"{self.run_dir.name}-w{index}", log_file=str(log))
        self.procs.append(start_local_worker(worker_main, spec, {REDIS_ENV: self.url},
                                             self.run_dir / f"worker-{index}.err"))
        # Which process is which local worker, for an operator (or a test) to signal one by its PID.
        write_json_atomic(self.run_dir / WORKERS_FILE, [
            {"worker_id": f"{self.run_dir.name}-w{i}", "pid": proc.pid, "log": f"worker-{i}.log"}
            for i, proc in enumerate(self.procs)])

    def run(self) -> dict[str, Any]:
        from paperset.crawler.pipelines.spool import spool_meta
        from paperset.spool.writer import SpoolWriter

        self.run_dir.mkdir(parents=True, exist_ok=True)
        seeds = self.publish_plan()
        app = AppConfig.from_settings(self.settings)
        meta = spool_meta(self.settings, run_id=self.run_dir.name, base_url=self.job.base_url or app.base_url,
                          listings=self.job.listings(), workers=self.workers, redis=redact(self.url))
        spool = SpoolWriter(self.run_dir / "spool", meta, flush_every=app.flush_every, part_bytes=app.part_bytes)
        with Path(app.rejects).open("ab") as rejects:

            def collect() -> None:
                drain(self.server, self.keys["items"], lambda data: spool.write_record(data.decode("utf-8")))
                drain(self.server, self.keys["rejects"], lambda data: rejects.write(data + b"\n"))

            for _ in range(self.workers):
                self.start_worker()
            logger.info("seeded %d requests; %d local workers", seeds, self.workers)
            lost = False
            stalled_since: float | None = None
            while True:
                collect()
                release_dead(self.server, self.name)
                self.replace_dead_workers()
                done = drained(self.server, self.name)
                if done and self.all_stopped():
                    break
                # Work left and no worker to do it: local ones all gone (and replaced as often as
                # allowed), remote ones silent for longer than the grace period.
                if not done and not self.anyone_alive():
                    stalled_since = stalled_since or time.monotonic()
                    if self.workers or time.monotonic() - stalled_since > self.grace_s:
                        lost = True
                        logger.error("work is left in the queue and no worker is alive: giving up")
                        break
                else:
                    stalled_since = None
                time.sleep(POLL_S)
            collect()
        stats, reasons = merge_stats(self.server, self.name)
        reason = next((r for r in reasons if r != "finished"), "workers_lost" if lost or not reasons else "finished")
        errors = int(self.server.get(self.keys["errors"]) or 0)
        if errors:
            stats["paperset/items/error"] = max(errors, int(stats.get("paperset/items/error", 0)))
        report = coverage_report(self.server, self.name, self.job.planned(), reason)
        stats[STAT] = report
        for status in STATUSES:
            stats[f"{STAT}/{status}"] = sum(r["status"] == status for r in report)
        stats.update(finish_reason=reason, **{"paperset/workers/started": len(self.procs),
                                              "paperset/workers/finished": reasons.count("finished"),
                                              "paperset/workers/lost": max(len(self.procs) - len(reasons), 0)})
        spool.close(stats, finish_reason=reason)
        stats["paperset/papers"] = distinct_papers(self.run_dir / "spool")
        return stats

    def replace_dead_workers(self) -> None:
        """A local worker killed (by a signal) before the queue drained is replaced, once per worker
        asked for; one that stopped on its own (rate limited, an error) is not: another would too."""
        for proc in list(self.procs):
            code = proc.poll()
            if code is not None and code < 0 and self.restarts < self.workers and not drained(self.server, self.name):
                self.restarts += 1
                logger.warning("a local worker died (exit %s); starting another", proc.returncode)
                proc.returncode = 0  # replaced once
                self.start_worker()

    def anyone_alive(self) -> bool:
        """A local worker still running, or any worker's heartbeat (one being replaced counts)."""
        if any(proc.poll() is None for proc in self.procs):
            return True
        return workers_alive(self.server, self.name)

    def all_stopped(self) -> bool:
        """No worker alive, and (waiting for remote ones) at least one has reported."""
        return not self.anyone_alive() and (self.workers > 0 or self.server.hlen(self.keys["stats"]) > 0)
