"""Start-up: a crawl that needs no browser never imports Playwright nor starts its driver; one with the
shipped dedupe settings imports neither datasketch nor scipy; loading the settings looks for no Chromium."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

PROBE = """
import json, sys
from paperset.app.crawl import CrawlJob, run_crawl
stats = run_crawl(CrawlJob(asked={"day": [sys.argv[2]]}, fetch="api", base_url=sys.argv[1],
                               settings={"LOG_LEVEL": "ERROR", "AUTOTHROTTLE_ENABLED": False}))
print(json.dumps({"playwright": sorted(m for m in sys.modules if m.split(".")[0] == "playwright"),
                  "heavy": sorted(m for m in sys.modules if m.split(".")[0] in ("datasketch", "scipy")),
                  "browsers": stats.get("playwright/browser_count", 0),
                  "entries": stats.get("item_scraped_count", 0)}))
"""


def test_a_crawl_without_browser_requests_never_imports_playwright(replica) -> None:
    day = replica.index["days"][0]
    out = subprocess.run([sys.executable, "-c", PROBE, replica.base_url, day], capture_output=True, text=True,
                         cwd=ROOT, timeout=300, check=True)
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["playwright"] == []
    assert found["heavy"] == []  # near-dedupe ran (memory index) without datasketch's scipy import
    assert found["browsers"] == 0
    assert found["entries"] == len(replica.site.items("day", day))


def test_loading_the_settings_imports_no_playwright_and_leaves_launch_options_to_the_handler() -> None:
    probe = ("import sys, paperset.crawler.settings as s; print(sorted(m for m in sys.modules "
             "if m.split('.')[0] in ('playwright', 'scrapy_playwright')), s.PLAYWRIGHT_LAUNCH_OPTIONS)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120,
                         check=True)
    assert out.stdout.strip() == "[] {}"


GC_PROBE = """
import gc, json, sys
from scrapy import signals
from paperset.app.crawl import CrawlJob, project_settings, run_crawl

seen = []

class Probe:
    @classmethod
    def from_crawler(cls, crawler):
        probe = cls()
        crawler.signals.connect(probe.opened, signal=signals.spider_opened)
        return probe

    def opened(self, spider):
        seen.append(gc.get_threshold())

run_crawl(CrawlJob(asked={"day": [sys.argv[2]]}, fetch="api", base_url=sys.argv[1],
                   settings={"LOG_LEVEL": "ERROR",
                             "EXTENSIONS": {**project_settings().getdict("EXTENSIONS"), "__main__.Probe": 0}}))
print(json.dumps({"during": seen, "after": gc.get_threshold()}))
"""


def test_the_crawl_runs_the_cycle_collector_less_often_and_restores_it(replica) -> None:
    from paperset.app.crawl import COLLECT_EVERY

    out = subprocess.run([sys.executable, "-c", GC_PROBE, replica.base_url, replica.index["days"][0]],
                         capture_output=True, text=True, cwd=ROOT, timeout=300, check=True)
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found == {"during": [[COLLECT_EVERY, 10, 10]], "after": [700, 10, 10]}
