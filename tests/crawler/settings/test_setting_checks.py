"""Bad `-s NAME=VALUE` settings are exit 2 naming the setting, before anything is created or fetched."""

from __future__ import annotations

import pytest
from scrapy.utils.project import get_project_settings

from paperset.crawler.settings.checks import SettingError, check_settings
from tests.conftest import run_paperset

BAD = [
    ("DOWNLOAD_TIMEOUT=abc", "setting DOWNLOAD_TIMEOUT = 'abc': expected number, 0 < x"),
    ("PAPERSET_FETCH=bogus", "setting PAPERSET_FETCH = 'bogus': expected one of auto, api, page, browser"),
    ("PAPERSET_BUDGET_API=-1", "setting PAPERSET_BUDGET_API = '-1': expected whole number, 0 <= x"),
    ("PAPERSET_DEDUPE_THRESHOLD=1.5", "setting PAPERSET_DEDUPE_THRESHOLD = '1.5': expected number, 0 < x < 1"),
    ("CONCURRENT_REQUESTS=0", "setting CONCURRENT_REQUESTS = '0': expected whole number, 1 <= x"),
    ("ROBOTSTXT_OBEY=maybe", "setting ROBOTSTXT_OBEY = 'maybe': expected true or false"),
    ("PAPERSET_NORMALIZE_ENABLED=perhaps", "setting PAPERSET_NORMALIZE_ENABLED = 'perhaps': expected true or false"),
    # Scrapy's own manager would hand the pipelines a response's batch, not its entries.
    ("ITEM_PROCESSOR=scrapy.pipelines.ItemPipelineManager", "setting ITEM_PROCESSOR = "
     "'scrapy.pipelines.ItemPipelineManager': expected paperset.crawler.tracking.items_left.ItemsLeftPipelineManager"),
    ("ITEM_PROCESSOR=no.such.Manager", "setting ITEM_PROCESSOR = 'no.such.Manager': No module named 'no'"),
    ("CLOSESPIDER_ITEMCOUNT=100", "setting CLOSESPIDER_ITEMCOUNT = '100': Scrapy counts items, and a paperset item "
     "is a response's batch of entries"),
    # A user's EXTENSIONS replaces the shipped dict: the rate gate (the download handler needs it), resume's
    # tracker, the rejects file, the feeds' exporter would be gone.
    ('EXTENSIONS={"my.Extension": 500}', "setting EXTENSIONS leaves out "
     "paperset.crawler.extensions.feeds.EntryFeedExporter, paperset.crawler.tracking.done.DoneTracker, "
     "paperset.crawler.fetch.politeness.extension.PolitenessGate, paperset.crawler.clean.rejects.RejectsLog: "
     "paperset needs them"),
]


@pytest.mark.parametrize(("setting", "message"), BAD)
def test_a_bad_setting_is_named(setting, message) -> None:
    settings = get_project_settings()
    name, value = setting.split("=", 1)
    settings.set(name, value, priority="cmdline")
    with pytest.raises(SettingError) as caught:
        check_settings(settings)
    assert str(caught.value).startswith(message)


def test_the_project_defaults_pass() -> None:
    check_settings(get_project_settings())
    settings = get_project_settings()
    settings.setdict({"DOWNLOAD_DELAY": "0.5", "PAPERSET_BUDGET_API": "0", "PAPERSET_FETCH": "page",
                      "DOWNLOAD_TIMEOUT": "2.5", "ROBOTSTXT_OBEY": "False", "PAPERSET_NORMALIZE_ENABLED": "False",
                      "PAPERSET_WORKER_ID": "host-1", "PAPERSET_REDIS_NAME": "ds"}, priority="cmdline")
    check_settings(settings)
    assert settings.getfloat("DOWNLOAD_TIMEOUT") == 2.5


@pytest.mark.slow  # six `paperset` processes
@pytest.mark.parametrize(("setting", "message"), BAD[:3])
@pytest.mark.parametrize("command", ["run", "crawl"])
def test_the_cli_exits_2_naming_the_setting_and_creates_nothing(tmp_path, setting, message, command) -> None:
    target = ["--out", str(tmp_path / "root")] if command == "run" else ["--out", str(tmp_path / "d" / "x.jsonl")]
    result = run_paperset(command, "--day", "2025-02-03", "--base-url", "http://127.0.0.1:9", "-s", setting, *target)
    assert result.returncode == 2
    assert result.stderr == f"paperset {command}: {message}\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow  # two `paperset` processes
@pytest.mark.parametrize("off", [["PAPERSET_DEDUPE_ENABLED"],
                                 ["PAPERSET_NORMALIZE_ENABLED", "PAPERSET_DEDUPE_ENABLED"]])
def test_a_run_without_the_steps_the_packager_needs_is_refused_before_fetching(tmp_path, off) -> None:
    """Normalize or dedupe off: a run could never publish (the packager needs their fields and keys), so it
    is not started; before, it crawled and then failed in the packager."""
    switches = [arg for name in off for arg in ("-s", f"{name}=False")]
    result = run_paperset("run", "--day", "2025-02-03", "--base-url", "http://127.0.0.1:9", *switches,
                          "--out", str(tmp_path / "root"))
    assert result.returncode == 2
    named = " and ".join(f"{name}=False" for name in ["PAPERSET_NORMALIZE_ENABLED", "PAPERSET_DEDUPE_ENABLED"]
                         if name in off)
    assert result.stderr == (f"paperset run: {named}: a run publishes a snapshot, and the packager needs every "
                             "entry normalized and keyed by those steps; to see entries without them, use "
                             "paperset crawl --out\n")
    assert list(tmp_path.iterdir()) == []


def test_extensions_beside_the_shipped_ones_pass_and_the_progress_bar_may_go() -> None:
    import json

    settings = get_project_settings()
    shipped = settings.getdict("EXTENSIONS")
    mine = {**shipped, "my.Extension": 500, "paperset.crawler.extensions.progress.LiveProgress": None}
    settings.set("EXTENSIONS", json.dumps(mine), priority="cmdline")
    check_settings(settings)
    assert settings.getdict("EXTENSIONS")["my.Extension"] == 500
