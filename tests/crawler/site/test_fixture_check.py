"""Scrapy's habit works here: `scrapy check` runs the spider's contract, which is the fixture cases (every
saved page and API answer extracts to its expected.json, paperset/crawler/site/contracts.py), and `paperset fixture
check` runs the same; both fail, naming the case, when a saved page no longer gives what was reviewed."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from tests.conftest import ROOT, run_paperset

CASE = "api_paper/2510.02297-all-fields"
CASES = len(list((ROOT / "fixtures" / "cases").glob("*/*/meta.json")))


def changed_copy(tmp_path: Path) -> Path:
    """A project folder (scrapy.cfg, fixtures/) whose one case's answer has another title than reviewed."""
    shutil.copy(ROOT / "scrapy.cfg", tmp_path / "scrapy.cfg")
    shutil.copytree(ROOT / "fixtures" / "cases", tmp_path / "fixtures" / "cases")
    folder = tmp_path / "fixtures" / "cases" / CASE
    title = json.loads((folder / "expected.json").read_text(encoding="utf-8"))["entries"][0]["title"]
    answer = folder / "answer.json"
    answer.write_text(answer.read_text(encoding="utf-8").replace(title, "Another Title"), encoding="utf-8")
    return tmp_path


def scrapy_check(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ROOT / ".venv/bin/scrapy"), "check", "hf_papers"], cwd=cwd, capture_output=True,
                          text=True, timeout=120, check=False)


def test_scrapy_check_runs_the_fixture_cases() -> None:
    result = scrapy_check(ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Ran 1 contract in" in result.stderr and result.stderr.rstrip().endswith("OK")


def test_scrapy_check_fails_on_a_changed_page(tmp_path: Path) -> None:
    result = scrapy_check(changed_copy(tmp_path))
    assert result.returncode == 1
    assert f"ContractFail: 1 of {CASES} fixture cases differ: {CASE}: entry 0: title differ" in result.stderr


def test_paperset_fixture_check_names_the_changed_case(tmp_path: Path) -> None:
    clean = run_paperset("fixture", "check", "--fixtures", str(ROOT / "fixtures"))
    assert (clean.returncode, clean.stdout) == (0, f"{CASES} of {CASES} fixture cases match their expected.json\n")
    changed = run_paperset("fixture", "check", "--fixtures", str(changed_copy(tmp_path) / "fixtures"))
    assert changed.returncode == 1
    assert changed.stdout == (f"differs  {CASE}: entry 0: title differ\n"
                              f"{CASES - 1} of {CASES} fixture cases match their expected.json\n")
    empty = run_paperset("fixture", "check", "--fixtures", str(tmp_path / "nothing"))
    assert (empty.returncode, empty.stderr) == (2, f"paperset fixture check: no fixture cases under "
                                                   f"{tmp_path / 'nothing' / 'cases'}\n")
