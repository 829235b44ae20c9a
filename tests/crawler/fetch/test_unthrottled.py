"""The unthrottled add-on (paperset/crawler/fetch/politeness/unthrottled.py): with PAPERSET_UNTHROTTLED on, a
real crawl of the replica runs with AutoThrottle off, no request budgets and 4 requests at a time per host
(what bench/crawl.py measures paperset with); `-s` still wins over it; off, it changes nothing."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from scrapy.utils.test import get_crawler

from paperset.app.crawl import CrawlJob, crawl_settings
from paperset.crawler.errors import SettingError
from paperset.crawler.fetch.politeness.unthrottled import UNTHROTTLED, Unthrottled
from paperset.crawler.spiders.hf_papers import HfPapersSpider
from tests.conftest import ROOT, project_settings_dict

AUTOTHROTTLE = "scrapy.extensions.throttle.AutoThrottle"
NAMES = tuple(UNTHROTTLED)
LOCAL = "http://127.0.0.1:9"  # a site on this machine: the add-on's only use


def crawl(replica, folder: Path, *settings: str) -> tuple[list[str], str, dict]:
    """A real `paperset crawl` of one day of the replica: its enabled extensions, its log and its spool's
    record of paperset's settings."""
    spool = folder / "spool"
    result = subprocess.run([str(ROOT / ".venv/bin/paperset"), "crawl", "--base-url", replica.base_url, "--day",
                             replica.index["days"][0], "--out", str(folder / "day.jsonl"), "-s", "LOG_LEVEL=INFO",
                             "-s", f"PAPERSET_SPOOL={spool}", *settings],
                            capture_output=True, text=True, timeout=300, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    block = re.search(r"Enabled extensions:\n(\[.*?\])", result.stderr, re.S)
    assert block is not None, result.stderr[-3000:]
    meta = json.loads((spool / "meta.json").read_text(encoding="utf-8"))
    return json.loads(block.group(1).replace("'", '"')), result.stderr, meta["settings"]


def test_the_add_on_changes_what_it_lists_and_the_command_line_still_wins() -> None:
    shipped = crawl_settings(CrawlJob())  # the CLI's one settings build
    before = {name: shipped[name] for name in NAMES}
    Unthrottled().update_settings(shipped)
    assert {name: shipped[name] for name in NAMES} == before == {
        "AUTOTHROTTLE_ENABLED": True, "PAPERSET_BUDGET_API": 450, "PAPERSET_BUDGET_PAGES": 90,
        "CONCURRENT_REQUESTS": 8, "CONCURRENT_REQUESTS_PER_DOMAIN": 2}  # off: nothing changes
    # On: the one settings build holds the add-on's values already (the plan and the checks read them).
    settings = crawl_settings(CrawlJob(settings={"PAPERSET_UNTHROTTLED": "true",
                                                 "CONCURRENT_REQUESTS_PER_DOMAIN": "3"}, base_url=LOCAL))
    assert {name: settings[name] for name in NAMES} == {**UNTHROTTLED, "CONCURRENT_REQUESTS_PER_DOMAIN": "3"}
    Unthrottled().update_settings(settings)  # the crawler applies it again: the same values
    assert {name: settings[name] for name in NAMES} == {**UNTHROTTLED, "CONCURRENT_REQUESTS_PER_DOMAIN": "3"}


def test_the_run_plan_sees_the_add_on_budgets(tmp_path) -> None:
    """A run of 1,000 searches plans 20 minutes under the shipped budgets (and would need --yes past 30);
    unthrottled, it plans none: the plan reads the one settings build, with the add-on's values in it."""
    searches = [arg for n in range(1000) for arg in ("--search", f"q{n:04d}")]

    def planned(*settings: str) -> str:
        result = subprocess.run([str(ROOT / ".venv/bin/paperset"), "run", "--plan", *searches,
                                 "--out", str(tmp_path / "data"), "--base-url", LOCAL, *settings],
                                capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)
        assert result.returncode == 0, result.stderr[-2000:]
        return next(line for line in result.stdout.splitlines() if line.startswith("takes at least"))

    assert planned().split() == ["takes", "at", "least", "1200", "s", "under", "the", "budgets", "(20", "min)"]
    assert planned("-s", "PAPERSET_UNTHROTTLED=true").split() == [
        "takes", "at", "least", "0", "s", "under", "the", "budgets", "(0", "min)"]


def test_a_real_crawl_runs_unthrottled_with_the_add_on_and_throttled_without(replica, tmp_path) -> None:
    extensions, log, ours = crawl(replica, tmp_path / "on", "-s", "PAPERSET_UNTHROTTLED=true")
    assert AUTOTHROTTLE not in extensions
    assert "'CONCURRENT_REQUESTS_PER_DOMAIN': 4," in log  # (CONCURRENT_REQUESTS is 8 as shipped too)
    # (the switch as given with -s; the budgets as the add-on set them)
    assert (ours["PAPERSET_UNTHROTTLED"], ours["PAPERSET_BUDGET_API"], ours["PAPERSET_BUDGET_PAGES"]) == ("true", 0, 0)
    extensions, log, ours = crawl(replica, tmp_path / "off")
    assert AUTOTHROTTLE in extensions
    assert "'CONCURRENT_REQUESTS_PER_DOMAIN': 2," in log
    assert (ours["PAPERSET_UNTHROTTLED"], ours["PAPERSET_BUDGET_API"], ours["PAPERSET_BUDGET_PAGES"]) == (
        False, 450, 90)


def test_the_add_on_is_refused_against_a_site_not_on_this_machine(tmp_path) -> None:
    """Unthrottled is for the replica and benchmarks: against the real site (the default base URL) or any
    other host, the run stops before asking anything (a SettingError: exit 2), naming the setting."""
    result = subprocess.run([str(ROOT / ".venv/bin/paperset"), "run", "--day", "2025-03-05",
                             "--out", str(tmp_path / "data"), "-s", "PAPERSET_UNTHROTTLED=true"],
                            capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "PAPERSET_UNTHROTTLED" in result.stderr and "https://huggingface.co" in result.stderr
    assert not (tmp_path / "data").exists()  # nothing made: refused before the run folder
    for base in ("https://huggingface.co", "http://10.0.0.7:8080"):
        with pytest.raises(SettingError, match="only for a site on this machine"):
            crawl_settings(CrawlJob(settings={"PAPERSET_UNTHROTTLED": "true"}, base_url=base))
    assert crawl_settings(CrawlJob(settings={"PAPERSET_UNTHROTTLED": "true"}, base_url="http://localhost:8000"))[
        "PAPERSET_BUDGET_API"] == 0


def test_the_spider_refuses_it_too_whatever_starts_the_crawl() -> None:
    """`scrapy crawl hf_papers -s PAPERSET_UNTHROTTLED=true` (or a worker of a distributed run) builds no
    settings through the CLI: the spider applies the same rule to the site it is about to crawl."""
    crawler = get_crawler(HfPapersSpider, project_settings_dict(PAPERSET_UNTHROTTLED=True))
    with pytest.raises(SettingError, match=r"only for a site on this machine.*not https://huggingface\.co"):
        HfPapersSpider.from_crawler(crawler, day="2025-03-05")
    with pytest.raises(SettingError, match=re.escape("not http://10.0.0.7:8080")):
        HfPapersSpider.from_crawler(crawler, day="2025-03-05", base_url="http://10.0.0.7:8080")
    assert HfPapersSpider.from_crawler(crawler, day="2025-03-05", base_url=LOCAL).base_url == LOCAL
    off = get_crawler(HfPapersSpider, project_settings_dict())
    assert HfPapersSpider.from_crawler(off, day="2025-03-05").base_url == "https://huggingface.co"
