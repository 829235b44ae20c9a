"""The live progress bar's add-on (paperset/crawler/extensions/progress_addon.py): PAPERSET_PROGRESS on lists the
LiveProgress extension in EXTENSIONS, off leaves it out (never imported); the CLI's terminal runs
(tests/crawler/extensions/test_progress.py) show the bar through it."""

from __future__ import annotations

from scrapy import Spider
from scrapy.utils.test import get_crawler

from paperset.crawler.extensions.progress_addon import LIVE_PROGRESS, ORDER
from tests.conftest import project_settings_dict


def test_progress_on_lists_the_bar_among_the_extensions_and_off_leaves_it_out() -> None:
    assert get_crawler(Spider, project_settings_dict(PAPERSET_PROGRESS=True)).settings.getdict(
        "EXTENSIONS")[LIVE_PROGRESS] == ORDER == 600
    assert LIVE_PROGRESS not in get_crawler(Spider, project_settings_dict()).settings.getdict("EXTENSIONS")
    assert LIVE_PROGRESS not in get_crawler(Spider, project_settings_dict(PAPERSET_PROGRESS="false")).settings.getdict(
        "EXTENSIONS")

