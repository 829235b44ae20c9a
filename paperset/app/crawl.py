"""Run a crawl in this process and return its stats: what `paperset crawl`, `run` and `demo` call. Also what a
run does around its crawl: Python's cycle collector during and after it (`roomy_collector`, `crawl_set_aside`), and
for `--links` (paperset/crawler/spiders/links.py, paperset/packager/links.py) the links' own counters in the crawl
summary (`links_counters`) and the papers whose links the latest version holds as unknown, asked first
(`links_retry`)."""

from __future__ import annotations

import gc
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import SETTINGS_PRIORITIES, Settings

from paperset.app.config import AppConfig
from paperset.crawler.dedup.config import DedupeConfig
from paperset.crawler.dedup.index import check_store
from paperset.crawler.fetch.politeness.unthrottled import Unthrottled, UnthrottledConfig, refuse_unthrottled
from paperset.crawler.pipelines.config import PipelineConfig
from paperset.crawler.settings.checks import check_settings
from paperset.crawler.site.kinds import FLAGS
from paperset.crawler.site.listings import Listing, plan_listings

SETTINGS_MODULE = "paperset.crawler.settings"
# Allocations between two runs of the collector's youngest generation during a crawl (Python's is 700).
COLLECT_EVERY = 20_000
CONTACT_ENV = "PAPERSET_CONTACT"
# Scrapy components switched off here by default (paperset.crawler.settings): Scrapy imports a listed
# component's module before the component says NotConfigured, and every key of EXTENSIONS or DOWNLOADER_MIDDLEWARES
# (even one set to None, to normalise it), and these two import aiohttp and tldextract (with requests): about a fifth of
# a second of every crawl's start. So while their switch is off they are left out of Scrapy's `_BASE` dict (the one
# Scrapy's docs say to leave alone: no other way avoids the import); switched on with -s, they stay.
SWITCHED_OFF = {
    "EXTENSIONS_BASE": ("REMOTE_CONTROL_ENABLED", "scrapy.extensions.remote_control.RemoteControl"),
    "DOWNLOADER_MIDDLEWARES_BASE": ("COOKIES_ENABLED",
                                    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware"),
}


def project_settings() -> Settings:
    """paperset's settings, loaded by module name: the same from any working folder (Scrapy's own
    `get_project_settings` looks for a `scrapy.cfg` in it, which an installed paperset has not).
    `$PAPERSET_CONTACT` sets the contact (a scheduler's environment is where an operator puts it)."""
    settings = Settings()
    settings.setmodule(SETTINGS_MODULE, priority="project")
    if os.environ.get(CONTACT_ENV):
        settings.set("PAPERSET_CONTACT", os.environ[CONTACT_ENV], priority="project")
    return settings


def with_contact(settings: Settings) -> None:
    """Put the configured PAPERSET_CONTACT (else the project's home, if any) into the default User-Agent
    (an explicit USER_AGENT wins)."""
    from paperset.app.contact import user_agent
    from paperset.spool.identity import project_home

    if settings.getpriority("USER_AGENT") == SETTINGS_PRIORITIES["project"]:
        settings.set("USER_AGENT", user_agent(AppConfig.from_settings(settings).contact, project_home()),
                     priority="project")


@dataclass
class CrawlJob:
    """What to crawl and where to write it. `asked`: the listing flags by name (paperset/crawler/site/kinds.py FLAGS:
    `{"day": ["2025-03-05"], "trending": True}`), lists holding a repeatable flag's values."""

    asked: dict[str, Any] = field(default_factory=dict)
    details: bool = False
    links: bool = False
    fetch: str | None = None
    base_url: str | None = None
    out: Path | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    # The site's paged list of every indexed paper (paperset/crawler/spiders/all_papers.py).
    all_papers: bool = False
    # The refresh sweep's paper ids (paperset/app/sweep.py), asked through the details path.
    sweep: list[str] = field(default_factory=list)
    # Not a setting of the plan: a run killed on a terminal is resumed by the same run from cron.
    progress: bool = False

    def listings(self) -> list[Listing]:
        """The listings asked for, in crawl order."""
        return plan_listings(self.asked)

    def planned(self) -> list[Listing]:
        """Every listing the crawl must settle (its coverage): the listings, and with `all_papers` the list
        of every indexed paper, as the spider plans them."""
        from paperset.crawler.spiders.all_papers import ALL_PAPERS

        return [*self.listings(), *([ALL_PAPERS] if self.all_papers else [])]

    def spider_kwargs(self) -> dict[str, Any]:
        """The spider's arguments, as `scrapy crawl hf_papers -a ...` would give them."""
        kwargs: dict[str, Any] = {}
        for flag in FLAGS:
            value = self.asked.get(flag.name)
            if value:
                kwargs[flag.name] = True if flag.metavar is None else list(value) if flag.whole else ",".join(value)
        for name in ("details", "all_papers", "links"):
            if getattr(self, name):
                kwargs[name] = True
        if self.sweep:
            kwargs["sweep"] = ",".join(self.sweep)
        for name in ("fetch", "base_url"):
            if getattr(self, name):
                kwargs[name] = getattr(self, name)
        return kwargs


def crawl_settings(job: CrawlJob) -> Settings:
    """The project settings with the job's output and overrides applied, every known setting's type
    and range checked first (SettingError, a ValueError, names the bad one; nothing is created)."""
    settings = project_settings()
    overrides = settings.copy()
    overrides.setdict(job.settings, priority="cmdline")
    check_settings(overrides)
    if job.out is not None:
        job.out.parent.mkdir(parents=True, exist_ok=True)
        settings.set("FEEDS", {str(job.out): {"format": "jsonlines", "overwrite": True}},
                     priority="cmdline")
        rejects = job.out.with_name(job.out.stem + ".rejects.jsonl")
        settings.set("PAPERSET_REJECTS", str(rejects), priority="cmdline")
        settings.set("PAPERSET_DEDUPE_STORE", str(job.out.parent / "dedupe-index"), priority="cmdline")
        settings.set("PAPERSET_LINKS_OUT", str(job.out.with_name(job.out.stem + ".links.jsonl")), priority="cmdline")
    settings.setdict(job.settings, priority="cmdline")
    # What the unthrottled add-on changes (budgets, concurrency) is applied to this one build too, so that the
    # plan and the pre-run checks see the crawl's settings (the crawler applies it again: the same values).
    Unthrottled().update_settings(settings)
    refuse_unthrottled_site(settings, job.base_url)
    unlist_switched_off(settings)
    if job.progress:
        settings.set("PAPERSET_PROGRESS", True, priority="cmdline")
    with_contact(settings)
    return settings


def refuse_unthrottled_site(settings: Settings, base_url: str | None) -> None:
    """PAPERSET_UNTHROTTLED against a site not on this machine: a SettingError, before anything is asked."""
    refuse_unthrottled(base_url or AppConfig.from_settings(settings).base_url,
                       UnthrottledConfig.from_settings(settings).unthrottled)


def unlist_switched_off(settings: Settings) -> None:
    """Leave the SWITCHED_OFF components whose switch is off out of Scrapy's defaults: never imported."""
    for name, (switch, path) in SWITCHED_OFF.items():
        base = settings.getdict(name)
        if not settings.getbool(switch) and path in base:
            settings.set(name, {k: v for k, v in base.items() if k != path},
                         priority=settings.getpriority(name) or "default")


def run_crawl(job: CrawlJob, spider_kwargs: dict[str, Any] | None = None, *,
              settings: Settings | None = None) -> dict[str, Any]:
    """Crawl as asked (or with these spider arguments) with the job's settings (built by crawl_settings,
    once: pass them when the caller has them), block until done, and return the crawl's stats.
    An unreadable near-dup index raises IndexUnreadable before anything is crawled."""
    # A log file on a full disk must not print a traceback for every record (the error is reported once).
    logging.raiseExceptions = False
    if settings is None:
        settings = crawl_settings(job)
    app = AppConfig.from_settings(settings)
    if app.dedupe:
        check_store(DedupeConfig.from_settings(settings), PipelineConfig.from_settings(settings).store,
                    remember=True)  # the crawl's own store: what is read now is not read again by its open
    process = CrawlerProcess(settings)
    crawler = process.create_crawler("hf_papers")
    process.crawl(crawler, **(job.spider_kwargs() if spider_kwargs is None else spider_kwargs))
    with roomy_collector():
        process.start()
    assert crawler.stats is not None
    return dict(crawler.stats.get_stats())


def run_settings(run_dir: Path, dedupe_store: str, resumed: bool, *, links: bool = False) -> dict[str, Any]:
    """The settings that point a crawl at its run folder: spool, rejects, near-dup index, log (and with
    `links`, the papers whose links to ask first)."""
    return {**(links_retry(run_dir.parent.parent, run_dir) if links else {}),
            "PAPERSET_SPOOL": str(run_dir / "spool"), "PAPERSET_REJECTS": str(run_dir / "rejects.jsonl"),
            "PAPERSET_DEDUPE_STORE": dedupe_store, "PAPERSET_RESUME": resumed,
            "LOG_FILE": str(run_dir / "crawl.log"), "LOG_FILE_APPEND": True}


def links_counters(stats: dict[str, Any]) -> dict[str, Any]:
    """The Hub links' own counters (paperset/crawler/spiders/links.py), as the crawl summary's `links`."""
    prefix = "paperset/links/"
    return {"links": {k.removeprefix(prefix): v for k, v in stats.items() if k.startswith(prefix)}}


def links_retry(dataset: Path, run_dir: Path) -> dict[str, Any]:
    """PAPERSET_LINKS_RETRY: the papers whose links the latest version holds as unknown, asked first."""
    from paperset.packager.build import latest
    from paperset.packager.links import unknown_papers

    version = latest(dataset) if dataset.is_dir() else None
    ids = unknown_papers(dataset / version) if version else []
    if not ids:
        return {}
    (run_dir / "links-retry.json").write_text(json.dumps(ids), encoding="utf-8")
    return {"PAPERSET_LINKS_RETRY": str(run_dir / "links-retry.json")}


# Python's cycle collector during a run. A crawl allocates a few objects an entry and keeps few: run every 700
# allocations (Python's default), the collector's walks were a tenth of an API crawl's wall time, so the crawl runs
# it every COLLECT_EVERY allocations (`roomy_collector`). After the crawl, the packaging allocates many objects
# beside everything the run made so far: each full collection walked them all (two, 0.25 s, on the api workload of
# bench/crawl.py, measured by gc.callbacks), so the packaging runs with everything the crawl left set aside
# (`crawl_set_aside`, gc.freeze), given back after (gc.unfreeze). The finished crawler's garbage (cycles: 60,000
# objects on that workload) is set aside with the rest, not collected first: that collection took 0.17 s, for
# memory the crawl held a moment before; it is collected after, or never when the process exits.
@contextmanager
def roomy_collector() -> Iterator[None]:
    """The youngest generation collected every COLLECT_EVERY allocations inside, then as it was."""
    before = gc.get_threshold()
    gc.set_threshold(COLLECT_EVERY, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


@contextmanager
def crawl_set_aside() -> Iterator[None]:
    """Every object the crawl left (alive or its garbage) out of the collector's walks inside, given back to its
    oldest generation after (so that what is or becomes garbage is still collected)."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
