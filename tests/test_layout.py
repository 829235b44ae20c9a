"""The packager's folder is `paperset/packager/`, so the real `packaging` library stays importable from the root."""

from __future__ import annotations

import subprocess
import sys

import packaging

from .conftest import ROOT


def test_no_top_level_packaging_folder() -> None:
    assert not (ROOT / "packaging").exists()


def test_pytest_run_from_root_imports_the_real_packaging() -> None:
    assert "site-packages" in packaging.__file__


def test_scrapy_run_from_root_imports_the_real_packaging() -> None:
    # `scrapy` puts the project (the root, where scrapy.cfg is) on sys.path before loading settings.
    code = ("import sys, os; sys.path.insert(0, os.getcwd()); from scrapy.utils.project import "
            "get_project_settings; s = get_project_settings(); import packaging.version; "
            "print(s['BOT_NAME'], packaging.__file__)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    bot, path = out.stdout.split()
    assert bot == "paperset"
    assert "site-packages" in path
    listed = subprocess.run([str(ROOT / ".venv/bin/scrapy"), "list"], cwd=ROOT, capture_output=True,
                            text=True, check=True)
    assert listed.stdout.split() == ["hf_papers"]
