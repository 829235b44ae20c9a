"""One `paperset run`: its folder under ROOT/NAME/.runs (created, or taken up again after a kill), the
crawl (in this process, or distributed through Redis), the health gate, packaging and verifying."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crawler.run import CrawlRequest, run_crawl
from crawler.summary import summarize


def plan_key(request: CrawlRequest) -> str:
    """What makes two runs the same work: the spider's arguments and the settings asked for."""
    return json.dumps({"spider": request.spider_kwargs(), "settings": request.settings}, sort_keys=True,
                      default=str)


def open_run(dataset: Path, request: CrawlRequest, *, resume: bool) -> tuple[Path, bool]:
    """The run folder: the latest run's, when it was killed while crawling the same plan (resume),
    else a new one. `run.json` holds the plan and the status (crawling, crawled, then the outcome)."""
    from packager.spool import write_json_atomic

    runs = dataset / ".runs"
    key = plan_key(request)
    if resume and runs.is_dir():
        for run in sorted((p for p in runs.iterdir() if (p / "run.json").exists()), reverse=True):
            try:
                state = json.loads((run / "run.json").read_text(encoding="utf-8"))
            except json.JSONDecodeError:
                break
            if state.get("status") == "crawling" and state.get("plan") == key:
                return run, True
            break
    run = runs / datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    run.mkdir(parents=True)
    write_json_atomic(run / "run.json", {"plan": key, "status": "crawling",
                                         "created_at": datetime.now(UTC).isoformat()})
    return run, False


def set_run_status(run_dir: Path, status: str) -> None:
    from packager.spool import write_json_atomic

    state = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    write_json_atomic(run_dir / "run.json", {**state, "status": status,
                                             "updated_at": datetime.now(UTC).isoformat()})


def crawl_and_package(request: CrawlRequest, root: Path, name: str, *, recrawl_days: int = 7,
                      force: bool = False, resume: bool = True, redis: str | None = None,
                      workers: int = 0) -> dict[str, Any]:
    """Crawl into the run's spool of ROOT/NAME, then package and verify the next version.

    The near-dup index lives in ROOT/NAME/.state/dedupe-index, so each run knows earlier runs' papers;
    spools, rejects, the crawl log and the health report stay in ROOT/NAME/.runs/<run>/. A run killed
    while crawling is resumed by the next run of the same plan (unless `resume` is false).
    """
    from packager.health import Health, check, measure
    from packager.manifest import problems
    from packager.publish import check_target, latest_health, package
    from packager.spool import write_json_atomic

    dataset = check_target(root, name)
    run_dir, resumed = open_run(dataset, request, resume=resume and not redis)
    index = dataset / ".state" / "dedupe-index"
    request.settings = {**request.settings, "PAPERSET_SPOOL": str(run_dir / "spool"),
                        "PAPERSET_REJECTS": str(run_dir / "rejects.jsonl"),
                        "PAPERSET_DEDUPE_STORE": redis or str(index),
                        "PAPERSET_RESUME": resumed, "LOG_FILE": str(run_dir / "crawl.log"),
                        "LOG_FILE_APPEND": True}
    started = time.monotonic()
    if redis:
        from crawler.workers import Coordinator

        stats = Coordinator(request, redis, name, workers, run_dir).run()
    else:
        stats = run_crawl(request)
    crawl = summarize(stats, elapsed=time.monotonic() - started, out=run_dir / "spool")
    crawl.update(run=str(run_dir), resumed=resumed, log=str(run_dir / "crawl.log"))
    if crawl["finish_reason"] != "finished":
        again = "start the run again" if redis else "the next run with the same arguments resumes it"
        return {"crawl": crawl, "error": f"the crawl did not finish ({crawl['finish_reason']}): nothing published; "
                                         f"{again}"}
    if stats.get("paperset/items/error"):
        return {"crawl": crawl, "error": f"{stats['paperset/items/error']} entries failed in the pipelines (see "
                                         f"{crawl['log']}): nothing published"}
    set_run_status(run_dir, "crawled")
    health = measure(crawl, run_dir / "spool")
    before = latest_health(dataset)
    tripped = check(health, Health.from_dict(before) if before else None)
    report = {"health": health.to_dict(), "previous": before, "tripped": tripped, "forced": bool(tripped and force)}
    write_json_atomic(run_dir / "health.json", report)
    if tripped and not force:
        set_run_status(run_dir, "held")
        return {"crawl": crawl, "health": report, "health_report": str(run_dir / "health.json"),
                "error": "the health gate tripped: " + "; ".join(tripped) + ": nothing published (--force publishes)"}
    result = package([run_dir / "spool"], root, name, recrawl_days=recrawl_days,
                     dedupe_index=None if redis else index,
                     health=health.to_dict(), forced=tripped if force else [], progress=request.progress)
    found = problems(Path(result.path)) if result.path else []
    set_run_status(run_dir, "published" if result.changed else "unchanged")
    return {**result.to_dict(), "crawl": crawl, "verified": not found, "problems": found, "health": report,
            "rejects": str(run_dir / "rejects.jsonl")}
