"""A run's folder (ROOT/NAME/.runs/<run>/): which run a plan takes up again, and its `run.json` (the plan,
the status: crawling, crawled, then the outcome; what the crawl's cleaning met)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from paperset.app.crawl import CrawlJob

# A run's folder of spool parts read for the fold while it crawled (removed once it published or stopped).
INTAKE = "intake"

# A run left in one of these states is taken up again by the next run of the same plan.
RESUMABLE = ("crawling", "incomplete", "failed")



def plan_key(job: CrawlJob) -> str:
    """What makes two runs the same work: the spider's arguments and the settings asked for."""
    from paperset.spool.redact import redact

    return json.dumps(redact({"spider": job.spider_kwargs(), "settings": job.settings}), sort_keys=True,
                      default=str)


def open_run(dataset: Path, job: CrawlJob, *, resume: bool) -> tuple[Path, bool]:
    """The run folder: the latest run's, when it was killed while crawling the same plan (resume),
    else a new one. `run.json` holds the plan and the status (crawling, crawled, then the outcome)."""
    from paperset.spool.writer import write_json_atomic

    runs = dataset / ".runs"
    key = plan_key(job)
    if resume and runs.is_dir():
        for run in sorted((p for p in runs.iterdir() if (p / "run.json").exists()), reverse=True):
            try:
                state = json.loads((run / "run.json").read_text(encoding="utf-8"))
            except json.JSONDecodeError:
                break
            if state.get("status") in RESUMABLE and state.get("plan") == key:
                return run, True
            break
    run = runs / datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    run.mkdir(parents=True)
    write_json_atomic(run / "run.json", {"plan": key, "status": "crawling",
                                         "created_at": datetime.now(UTC).isoformat()})
    return run, False


def set_run_status(run_dir: Path, status: str, **extra: Any) -> None:
    from paperset.spool.writer import write_json_atomic

    state = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    write_json_atomic(run_dir / "run.json", {**state, "status": status,
                                             "updated_at": datetime.now(UTC).isoformat(), **extra})


def note_run(run_dir: Path, **facts: Any) -> None:
    """Add facts to `run.json` and keep its status: what the crawl's cleaning met (entries dropped by
    reason, bad values by field and reason), whatever the run's outcome."""
    state = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    set_run_status(run_dir, state["status"], **facts)


def sweep_intakes(dataset: Path) -> None:
    """Remove the fold intakes (paperset/app/prefold.py) runs killed while crawling or packaging left."""
    for folder in (dataset / ".runs").glob(f"*/{INTAKE}"):
        shutil.rmtree(folder, ignore_errors=True)
