"""Settings checked once, before anything happens (#23): every declared setting (paperset/crawler/settings/fields.py)
given a bad value makes `paperset run` exit 2 with one line naming it, before any request reaches the
site and before any folder or file is made; and a run builds its settings once."""

from __future__ import annotations

import json
import subprocess

import pytest

from paperset.cli import main
from paperset.crawler import settings as defaults
from paperset.crawler.settings.fields import SPECS, Spec, parse
from tests.conftest import ROOT, run_paperset

FREE_TEXT = {name for name, spec in SPECS.items()
             if spec.kind in (str, list) and not spec.choices and spec.check is None}
# Text a setting's own check refuses.
BAD_TEXT = {"PAPERSET_BASE_URL": "ftp://127.0.0.1/", "PAPERSET_CONTACT": "ops\x01@example.org",
            "PAPERSET_ALLOWED_HOSTS": "mirror.example.org,h:x", "PAPERSET_DEDUPE_STORE": "ftp://127.0.0.1/idx",
            "PAPERSET_REDIS_NAME": "a b", "PAPERSET_WORKER_ID": "w/1"}


def bad_values(name: str, spec: Spec) -> list[str]:
    """Values the spec refuses: just past each bound, a word for a number or a switch, an unknown choice."""
    if spec.kind is bool:
        return ["maybe"]
    if spec.choices:
        return ["bogus"]
    if spec.check is not None:
        return [BAD_TEXT[name]]
    found = ["abc"]
    if spec.low is not None:
        found.append(f"{spec.low:g}" if spec.above else f"{spec.low - (1 if spec.kind is int else 0.5):g}")
    if spec.high is not None:
        found.append(f"{spec.high:g}" if spec.below else f"{spec.high + 1:g}")
    if spec.kind is int:
        found.append("1.5")
    return found


CASES = [(name, value) for name, spec in sorted(SPECS.items()) if name not in FREE_TEXT
         for value in bad_values(name, spec)]


def test_every_paperset_setting_is_declared() -> None:
    ours = {name for name in vars(defaults) if name.startswith("PAPERSET_")}
    assert sorted(ours - set(SPECS)) == []
    for name in ours:  # each default passes its own declaration
        parse(name, getattr(defaults, name))


@pytest.mark.parametrize(("name", "value"), CASES)
def test_a_bad_setting_is_exit_2_naming_it_before_anything(name, value, tmp_path, replica, capsys) -> None:
    before = len(replica.requests)
    code = main(["run", "--base-url", replica.base_url, "--day", "2025-02-03", "-s", f"{name}={value}",
                 "--out", str(tmp_path / "root")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"paperset run: setting {name} = {value!r}: expected ") and err.count("\n") == 1, err
    assert len(replica.requests) == before
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("setting", "message"), [
    ("PAPERSET_DEDUPE_THRESHOLD=1.0", "setting PAPERSET_DEDUPE_THRESHOLD = '1.0': expected number, 0 < x < 1"),
    ("CONCURRENT_ITEMS=0", "setting CONCURRENT_ITEMS = '0': expected whole number, 1 <= x"),
    ("PAPERSET_DEDUPE_BANDS=40", "settings PAPERSET_DEDUPE_BANDS and PAPERSET_DEDUPE_ROWS: give both or neither"),
    ("PAPERSET_DEDUPE_TRESHOLD=0.5", "setting PAPERSET_DEDUPE_TRESHOLD: no such setting (docs/settings.md lists them)"),
])
def test_the_cases_of_the_issue(setting, message, tmp_path, replica, capsys) -> None:
    before = len(replica.requests)
    code = main(["run", "--base-url", replica.base_url, "--day", "2025-02-03", "-s", setting, "--json",
                 "--out", str(tmp_path / "root")])
    out, err = capsys.readouterr()
    assert (code, err) == (2, f"paperset run: {message}\n")
    assert '"outcome": "bad_input"' in out
    assert len(replica.requests) == before and list(tmp_path.iterdir()) == []


COUNTING = """
import sys
import paperset.app.crawl as crawl
builds = []
original = crawl.project_settings
def counted():
    builds.append(1)
    return original()
crawl.project_settings = counted
import paperset.packager.parent as parent
checks = []
check_parent = parent.check_parent
def checked(folder):
    checks.append(folder.name)
    return check_parent(folder)
parent.check_parent = checked
from paperset.cli import main
code = main(sys.argv[1:])
print(f"settings built {len(builds)} times", file=sys.stderr)
print(f"parent checked {len(checks)} times: {' '.join(checks)}", file=sys.stderr)
sys.exit(code)
"""


@pytest.mark.slow  # a whole run of one day of the replica
def test_a_run_builds_its_settings_once(tmp_path, replica) -> None:
    result = subprocess.run([str(ROOT / ".venv/bin/python"), "-c", COUNTING, "run", "--base-url", replica.base_url,
                             "--day", "2025-02-03", "--out", str(tmp_path / "root"), "--json"],
                            capture_output=True, text=True, timeout=300, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr.strip().splitlines()[-2:] == ["settings built 1 times", "parent checked 0 times:"]


@pytest.mark.slow  # two runs of one day of the replica
def test_a_run_on_a_parent_builds_its_settings_once_and_checksums_the_parent_once(tmp_path, replica) -> None:
    """The route of one `paperset run` over an existing version: one settings build, one parent check
    (before: two, one before the crawl and one by the packager)."""
    root = tmp_path / "root"
    parent = json.loads(run_paperset("run", "--base-url", replica.base_url, "--day", "2025-02-03", "--out", str(root),
                                     "--json").stdout.splitlines()[-1])["version"] or ""
    assert (root / "hf-papers" / parent / "manifest.json").is_file()
    result = subprocess.run([str(ROOT / ".venv/bin/python"), "-c", COUNTING, "run", "--base-url", replica.base_url,
                             "--day", "2025-02-04", "--out", str(root), "--json"],
                            capture_output=True, text=True, timeout=300, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.splitlines()[-1])["parent"] == parent
    assert result.stderr.strip().splitlines()[-2:] == ["settings built 1 times", f"parent checked 1 times: {parent}"]


@pytest.mark.slow  # two runs of one day of the replica
def test_settings_the_parent_index_was_not_built_with_are_refused_before_anything(tmp_path, replica) -> None:
    """A valid threshold, but not the one the latest version's near-dup index was built with: exit 2
    naming the setting, before the run makes its folder or asks the site anything (before: after both)."""
    root = tmp_path / "root"
    first = run_paperset("run", "--base-url", replica.base_url, "--day", "2025-02-03", "--out", str(root), "--name",
                         "ds")
    assert first.returncode == 0, first.stderr
    runs = sorted((root / "ds" / ".runs").iterdir())
    before = len(replica.requests)
    second = run_paperset("run", "--base-url", replica.base_url, "--day", "2025-02-04", "--out", str(root), "--name",
                          "ds", "-s", "PAPERSET_DEDUPE_THRESHOLD=0.8", "--json")
    assert second.returncode == 2
    [line] = second.stderr.splitlines()
    assert line.startswith(f"paperset run: the index in {root / 'ds'}/") and "/dedupe-index was built" in line
    assert "PAPERSET_DEDUPE_THRESHOLD = 0.8 (the index's: 0.7)" in line
    assert json.loads(second.stdout)["outcome"] == "bad_input"
    assert sorted((root / "ds" / ".runs").iterdir()) == runs and len(replica.requests) == before
