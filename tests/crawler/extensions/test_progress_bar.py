"""The live progress bar's add-on (ProgressBar, paperset/crawler/extensions/progress.py): PAPERSET_PROGRESS on
lists the LiveProgress extension in EXTENSIONS, off leaves it out (never built, tqdm never imported); the CLI's
terminal runs (tests/crawler/extensions/test_progress.py) show the bar through it."""

from __future__ import annotations

import subprocess
import sys

from scrapy import Spider
from scrapy.utils.test import get_crawler

from paperset.crawler.extensions.progress import LIVE_PROGRESS, ORDER
from tests.conftest import ROOT, project_settings_dict


def test_progress_on_lists_the_bar_among_the_extensions_and_off_leaves_it_out() -> None:
    assert get_crawler(Spider, project_settings_dict(PAPERSET_PROGRESS=True)).settings.getdict(
        "EXTENSIONS")[LIVE_PROGRESS] == ORDER == 600
    assert LIVE_PROGRESS not in get_crawler(Spider, project_settings_dict()).settings.getdict("EXTENSIONS")
    assert LIVE_PROGRESS not in get_crawler(Spider, project_settings_dict(PAPERSET_PROGRESS="false")).settings.getdict(
        "EXTENSIONS")



def test_the_add_on_and_the_bar_share_a_module_that_imports_no_tqdm() -> None:
    """Every crawl loads the add-on (ADDONS), so the module imports tqdm only when a bar is shown."""
    code = "import sys, paperset.crawler.extensions.progress; print('tqdm' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         check=True)
    assert out.stdout.strip() == "False"
