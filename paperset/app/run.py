"""One `paperset run`: its folder under ROOT/NAME/.runs (created, or taken up again after a kill), the
crawl (in this process, or distributed through Redis), the health gate, packaging and verifying."""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paperset.app import sweep
from paperset.app.archives import archive_setting
from paperset.app.config import AppConfig
from paperset.app.crawl import CrawlJob, crawl_set_aside, crawl_settings, links_counters, run_crawl, run_settings
from paperset.app.exits import outcome_record
from paperset.app.run_folder import INTAKE, note_run, open_run, set_run_status, sweep_intakes
from paperset.crawler.extensions.summary import summarize
from paperset.crawler.tracking.coverage import STAT, UNREACHABLE, describe, incomplete
from paperset.packager.chart import ChartDrawer
from paperset.spool.archives import archives_of
from paperset.spool.errors import INDEX_UNSAVED_STAT, NO_SPACE_STAT

if TYPE_CHECKING:
    from scrapy.settings import Settings

    from paperset.packager.intake import Intake
    from paperset.packager.parent import CheckedParent

def redact_logs() -> None:
    """Make every log record of this process carry URLs without their passwords (message and arguments),
    so that no log line, Scrapy's "Overridden settings" included, writes a secret. Installed once."""
    from paperset.spool.redact import redact

    make = logging.getLogRecordFactory()
    if getattr(make, "paperset_redacts", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        if isinstance(record.msg, str) and "@" in record.msg:
            record.msg = redact(record.msg)
        if isinstance(record.args, dict):
            record.args = redact(record.args)
        elif record.args:
            record.args = tuple(redact(arg) if isinstance(arg, str | dict | list) else arg for arg in record.args)
        return record

    factory.paperset_redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


def crawl_and_package(job: CrawlJob, root: Path, name: str, **options: Any) -> dict[str, Any]:
    """`_crawl_and_package`, its outcome naming the run's web archives (`archive`: paths, docs/archive.md)."""
    outcome = _crawl_and_package(job, root, name, **options)
    run = (outcome.get("crawl") or {}).get("run")
    outcome["archive"] = [str(p) for p in archives_of(Path(run).parent.parent, Path(run).name)] if run else []
    return outcome


def _crawl_and_package(job: CrawlJob, root: Path, name: str, *, recrawl_days: int | None = None,
                       force: bool = False, resume: bool = True, redis: str | None = None,
                       workers: int = 0, allow_partial: bool = False,
                       settings: Settings | None = None) -> dict[str, Any]:
    """Crawl into the run's spool of ROOT/NAME, then package and verify the next version.

    Each run crawls with its own copy of the near-dup index, taken from the latest version (so each run
    knows earlier runs' papers, and a run that publishes nothing leaves no trace in the next one's);
    spools, rejects, that index, the crawl log and the health report stay in ROOT/NAME/.runs/<run>/. A run killed
    while crawling is resumed by the next run of the same plan (unless `resume` is false).

    The result is an outcome record (paperset/app/exits.py): `failed` when the site could not be reached
    or every listing failed, `incomplete` when some listing is (unless `allow_partial`: then published,
    the missing listings recorded in the manifest and card), `gate_tripped`, `published`, `unchanged`.
    """
    from paperset.packager.build import check_target

    redact_logs()
    settings = settings if settings is not None else crawl_settings(job)
    if recrawl_days is None:
        recrawl_days = AppConfig.from_settings(settings).recrawl_days
    dataset = check_target(root, name)
    run_dir, resumed = open_run(dataset, job, resume=resume and not redis)
    index, parent = run_index(dataset, run_dir, resumed)
    started = time.monotonic()
    pointers = {**run_settings(run_dir, redis or str(index), resumed, links=job.links),
                **archive_setting(job.settings, run_dir)}
    # The spool parts the crawl finishes are read for the fold while it crawls (one process only).
    from paperset.app.prefold import PreFold

    sweep_intakes(dataset)  # a killed run's: under the dataset's lock, no other run's is in use
    prefold = None if redis else PreFold(run_dir / "spool", run_dir / INTAKE).start()
    drawer = ChartDrawer()  # the card's chart process, matplotlib imported beside the crawl (used if it publishes)
    try:
        stats = crawl_run(job, settings, pointers, redis=redis, name=name, workers=workers, run_dir=run_dir)
        with crawl_set_aside():  # the crawl's objects, from the packaging's collections (crawl.py)
            intake = prefold.finish() if prefold is not None else None
            if prefold is not None:
                note_run(run_dir, spool_parts_read_early=prefold.facts())
            return _after_crawl(job, root, name, dataset, run_dir, resumed, index, parent, stats, started, intake,
                                recrawl_days=recrawl_days, force=force, allow_partial=allow_partial, redis=redis,
                                drawer=drawer)
    finally:
        drawer.close()
        if prefold is not None:
            prefold.close()


def _after_crawl(job: CrawlJob, root: Path, name: str, dataset: Path, run_dir: Path, resumed: bool, index: Path,
                 parent: CheckedParent, stats: dict[str, Any], started: float, intake: Intake | None, *,
                 recrawl_days: int, force: bool, allow_partial: bool, redis: str | None,
                 drawer: ChartDrawer | None = None) -> dict[str, Any]:
    """What a finished crawl leads to: a stopped, held or incomplete run, or the published version."""
    crawl = summarize(stats, elapsed=time.monotonic() - started, out=run_dir / "spool")
    coverage = stats.get(STAT)
    crawl.update(run=str(run_dir), resumed=resumed, log=str(run_dir / "crawl.log"), coverage=coverage,
                 **(links_counters(stats) if job.links else {}))
    note_run(run_dir, dropped=crawl["dropped"], bad_values=crawl["bad_values"], unmapped_keys=crawl["unmapped_keys"])
    missing = incomplete(coverage)
    stopped = crawl_verdict(job, run_dir, stats, crawl, again="start the run again" if redis else
                            "the next run with the same arguments resumes it")
    # Listings the site answered but whose pages held nothing readable: the health gate says it better
    # (a redesign) before they count as incomplete.
    unreadable = bool(missing) and all(r["reason"] == "no_entries" for r in missing)
    if stopped is None and coverage and len(missing) == len(coverage) and not unreadable:
        set_run_status(run_dir, "failed")
        stopped = _stopped("failed", crawl, [f"every listing failed: {describe(missing)}: nothing published"])
    if stopped is None and missing and not allow_partial and not unreadable:
        stopped = _incomplete(run_dir, crawl, missing, len(coverage))
    if stopped is not None:
        return stopped
    set_run_status(run_dir, "crawled")
    tripped, report = health_gate(dataset, run_dir, crawl, force=force, taken=intake)
    if tripped and not force:
        set_run_status(run_dir, "held")
        return outcome_record("gate_tripped", parent=latest_version(dataset), reasons=tripped, crawl=crawl,
                              health=report, health_report=str(run_dir / "health.json"),
                              error="the health gate tripped: " + "; ".join(tripped)
                              + ": nothing published (--force publishes)")
    if missing and not allow_partial:
        return _incomplete(run_dir, crawl, missing, len(coverage))
    outcome = publish_run(job, root, name, run_dir, crawl, report, missing=missing, forced=tripped if force else [],
                          recrawl_days=recrawl_days, index=None if redis else index, parent=parent, intake=intake,
                          drawer=drawer)
    return sweep.recorded(dataset, job.sweep, coverage, outcome)


def crawl_run(job: CrawlJob, settings: Settings, pointers: dict[str, Any], *, redis: str | None, name: str,
              workers: int, run_dir: Path) -> dict[str, Any]:
    """The crawl of a run, pointed at its run folder, in this process or distributed; its stats."""
    job.settings = {**job.settings, **pointers}
    settings.setdict(pointers, priority="cmdline")
    if redis:
        from paperset.app.workers import Coordinator

        return Coordinator(job, redis, name, workers, run_dir, settings).run()
    return run_crawl(job, settings=settings)


def crawl_verdict(job: CrawlJob, run_dir: Path, stats: dict[str, Any], crawl: dict[str, Any],
                  *, again: str) -> dict[str, Any] | None:
    """The outcome of a crawl that cannot be published whatever its listings say (the site unreachable, the
    crawl stopped early, entries that failed in the pipelines), or None."""
    if stats.get(NO_SPACE_STAT):
        with contextlib.suppress(OSError):  # the disk is full: run.json may keep "crawling" (resumed alike)
            set_run_status(run_dir, "failed")
        return _stopped("failed", crawl, [f"no space left writing {stats[NO_SPACE_STAT]}: nothing published; {again}"])
    if stats.get(INDEX_UNSAVED_STAT):
        set_run_status(run_dir, "failed")
        return _stopped("failed", crawl, [f"the near-duplicate index was not saved ({stats[INDEX_UNSAVED_STAT]}): "
                                          f"nothing published; {again}"])
    if crawl["finish_reason"] == UNREACHABLE:
        set_run_status(run_dir, "failed")
        return _stopped("failed", crawl, [f"the site {job.base_url or 'asked for'} is unreachable: "
                                          f"{stats.get('paperset/connection/failed_in_a_row', 0)} connections failed "
                                          "in a row: nothing published"])
    if crawl["finish_reason"] != "finished":
        reasons = [f"the crawl did not finish ({crawl['finish_reason']}): nothing published; {again}"]
        missing = incomplete(stats.get(STAT))
        if missing:
            reasons.append(f"incomplete: {describe(missing)}")
        return _stopped("incomplete" if crawl["finish_reason"] == "rate_limited" else "failed", crawl, reasons)
    if stats.get("paperset/items/error"):
        return _stopped("failed", crawl, [f"{stats['paperset/items/error']} entries failed in the pipelines (see "
                                          f"{crawl['log']}): nothing published"])
    return None


def health_gate(dataset: Path, run_dir: Path, crawl: dict[str, Any], *, force: bool,
                taken: Intake | None = None) -> tuple[list[str], dict[str, Any]]:
    """The health gate's verdict on the run against the latest version (what tripped, the report), written
    to the run's health.json; the spool parts the fold's intake `taken` holds are counted there already."""
    from paperset.packager.build import latest_health
    from paperset.packager.health import Health, check, measure
    from paperset.spool.writer import write_json_atomic

    health = measure(crawl, run_dir / "spool", *((taken.figures, taken.parts) if taken is not None else ()))
    before = latest_health(dataset)
    tripped = check(health, Health.from_dict(before) if before else None)
    report = {"health": health.to_dict(), "previous": before, "tripped": tripped, "forced": bool(tripped and force)}
    write_json_atomic(run_dir / "health.json", report)
    return tripped, report


def publish_run(job: CrawlJob, root: Path, name: str, run_dir: Path, crawl: dict[str, Any],
                report: dict[str, Any], *, missing: list[dict[str, Any]], forced: list[str], recrawl_days: int,
                index: Path | None, parent: CheckedParent | None = None, intake: Intake | None = None,
                drawer: ChartDrawer | None = None) -> dict[str, Any]:
    """Package the run's spool into the next version (on `parent`, checked before the crawl under the same
    lock, not checksummed again), verify it, and say what happened."""
    from paperset.crawler.site.kinds import daily_kinds
    from paperset.packager.build import package
    from paperset.packager.manifest import problems

    # Which listings are Daily Papers' is the registry's (Kind.daily): handed down, the packager imports no crawler.
    result = package([run_dir / "spool"], root, name, recrawl_days=recrawl_days, dedupe_index=index,
                     health=report["health"], forced=forced, progress=job.progress, checked=parent, intake=intake,
                     drawer=drawer, daily_kinds=daily_kinds())
    found = problems(Path(result.path)) if result.path else []
    set_run_status(run_dir, "published" if result.changed else "unchanged")
    details = {**result.to_dict(), "crawl": crawl, "verified": not found, "problems": found, "health": report,
               "rejects": str(run_dir / "rejects.jsonl"),
               "missing": [f"{r['kind']} {r['key']} ({r['reason']})" for r in missing]}
    reasons = [f"published with --allow-partial, missing: {describe(missing)}"] if missing else []
    reasons += [f"published with --force despite: {reason}" for reason in forced]
    if found:
        return outcome_record("failed", reasons=[f"the new version does not verify: {found}"], **details)
    return outcome_record("published" if result.changed else "unchanged", **details, reasons=reasons or None)


def run_index(dataset: Path, run_dir: Path, resumed: bool) -> tuple[Path, CheckedParent]:
    """The run's own near-dup index folder: a new run starts from a copy of the latest version's index
    (a pulled version holds its own too), never from an index that saw a crawl
    whose version was not published (a run killed while packaging would otherwise hide its papers'
    near-duplicate similarities from the next run); a resumed run keeps its own. The parent is checked
    (and an orphaned version adopted) here, before the crawl: a corrupt parent fails the run at once; the
    checked parent is returned with the index, for the packager (one parent check per run)."""
    from paperset.packager.parent import CheckedParent, resolve_parent

    parent = resolve_parent(dataset)
    index = run_dir / "dedupe-index"
    if resumed or index.exists():
        return index, CheckedParent(parent)
    source = dataset / parent / "dedupe-index" if parent else None
    if source is not None and source.is_dir():
        from paperset.packager.share import copy_linked

        copy_linked(source, index)  # hard links: the index is saved by rename, never written in place
        from paperset.app.plan import index_proofs
        from paperset.crawler.dedup.disk import stamp

        stamp(index, index_proofs(dataset / parent))  # the version's proven files: not checked again
    return index, CheckedParent(parent)


def latest_version(dataset: Path) -> str | None:
    from paperset.packager.build import latest

    return latest(dataset)


def _incomplete(run_dir: Path, crawl: dict[str, Any], missing: list[dict[str, Any]], asked: int) -> dict[str, Any]:
    set_run_status(run_dir, "incomplete", missing=missing)
    return _stopped("incomplete", crawl, [
        f"{len(missing)} of {asked} listings incomplete: {describe(missing)}: nothing published; the next run "
        "with the same arguments fetches only what is missing (--allow-partial publishes)"])


def _stopped(outcome: str, crawl: dict[str, Any], reasons: list[str]) -> dict[str, Any]:
    """The record of a run that published nothing."""
    return outcome_record(outcome, reasons=reasons, crawl=crawl, error="; ".join(reasons))
