"""The unthrottled crawl as a Scrapy add-on (listed in ADDONS), for benchmarks and the local replica: with
`PAPERSET_UNTHROTTLED` on, AutoThrottle is off, the request budgets are off (0: no budget) and the per-host
concurrency is raised, so that a crawl goes as fast as the server answers. This one file shows all it
changes (UNTHROTTLED). Never for the real site: the budgets and AutoThrottle are what keep a crawl polite.

The values are set at the project's priority: over the shipped defaults (paperset.crawler.settings, loaded at
that priority), under what the command line gives (`-s NAME=VALUE` still wins). (Scrapy's own "addon"
priority is below the project's: it would leave the shipped defaults in place.)"""

from __future__ import annotations

from dataclasses import dataclass

from scrapy.settings import BaseSettings

from paperset.crawler.errors import SettingError
from paperset.crawler.fetch.hosts import is_local
from paperset.crawler.settings.fields import FromSettings, setting

# What the add-on changes (bench/crawl.py measures paperset with it, and the bare spider with its Scrapy part).
UNTHROTTLED = {"AUTOTHROTTLE_ENABLED": False, "PAPERSET_BUDGET_API": 0, "PAPERSET_BUDGET_PAGES": 0,
               "CONCURRENT_REQUESTS": 8, "CONCURRENT_REQUESTS_PER_DOMAIN": 4}


@dataclass(frozen=True)
class UnthrottledConfig(FromSettings):
    """`PAPERSET_UNTHROTTLED`: whether the add-on changes anything."""

    unthrottled: bool = setting("PAPERSET_UNTHROTTLED")


class Unthrottled:
    """Settings read: `PAPERSET_UNTHROTTLED` (on: the crawl runs unthrottled)."""

    def update_settings(self, settings: BaseSettings) -> None:
        if not UnthrottledConfig.from_settings(settings).unthrottled:
            return
        for name, value in UNTHROTTLED.items():
            settings.set(name, value, priority="project")


def refuse_unthrottled(base_url: str, unthrottled: bool) -> None:
    """The add-on is for a site on this machine only: on against any other base URL, a SettingError. Checked
    by `paperset run`/`crawl` before anything is asked (paperset/app/crawl.py) and by the spider, whatever
    starts it (`scrapy crawl`, a worker of a distributed run)."""
    if unthrottled and not is_local(base_url):
        raise SettingError(f"setting PAPERSET_UNTHROTTLED = True: only for a site on this machine (the replica, a "
                           f"benchmark), not {base_url}: its budgets and AutoThrottle keep a crawl polite")
