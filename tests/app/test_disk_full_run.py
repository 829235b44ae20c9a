"""A full disk wherever it strikes in `paperset run --json` (run.json, the spool's meta.json and entries, the
near-dup index, health.json, the packager's files, LATEST): exit 1, one line naming the path and "no space
left", the `failed` outcome line, no traceback, nothing half-visible (no version, no LATEST, no temporary
file left). The disk is full for the files of one point only (tests/disk_full.py); the packager's own
Arrow writes meet a real full tmpfs in tests/packager/test_disk_full.py."""

from __future__ import annotations

import fnmatch
import json
import os
import subprocess

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow  # a `paperset run` of one day of the replica a case


@pytest.mark.parametrize(("pattern", "named"), [
    ("*/.runs/*/.run.json.tmp-*", "/.runs/*/run.json"),
    ("*/spool/.meta.json.tmp-*", "/.runs/*/spool/meta.json"),
    ("*/spool/entries/part-*", "/.runs/*/spool"),
    ("*/dedupe-index/.seg-*.tmp-*/*", "/.runs/*/dedupe-index/.seg-*.tmp-*/signatures.npy"),
    ("*/.runs/*/.health.json.tmp-*", "/.runs/*/health.json"),
    ("*/ds/.tmp-*/README.md", "/.tmp-*/README.md"),
    ("*/ds/.tmp-*/.manifest.json.tmp-*", "/.tmp-*/manifest.json"),
    ("*/ds/.LATEST.tmp-*", "/LATEST"),
])
def test_a_full_disk_fails_the_run_in_one_line(tmp_path, replica, pattern, named) -> None:
    root = tmp_path / "root"
    result = subprocess.run([str(ROOT / ".venv/bin/python"), "-m", "tests.disk_full", pattern, "run", "--base-url",
                             replica.base_url, "--day", "2025-02-03", "--out", str(root), "--name", "ds", "--json"],
                            capture_output=True, text=True, timeout=300, cwd=ROOT, check=False)
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr and "Logging error" not in result.stderr
    [line] = [s for s in result.stderr.splitlines() if s.startswith("paperset run: ")]
    written = line.split("no space left writing ", 1)[1].split(": nothing published")[0].split("; nothing was")[0]
    assert fnmatch.fnmatch(written, f"{root / 'ds'}{named}"), line
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert (outcome["outcome"], outcome["exit_code"], outcome["version"]) == ("failed", 1, None)
    assert outcome["error"] in line
    dataset = root / "ds"
    # No version and no LATEST; the run's folder and its web archive (what was fetched: docs/archive.md) stay.
    assert sorted(p.name for p in dataset.iterdir() if p.name != "archive") == [".lock", ".runs"]
    assert [p for p in dataset.rglob("*.tmp-*")] == []


def test_a_near_dup_index_that_cannot_be_saved_fails_the_run(tmp_path, replica) -> None:
    """Another error than a full disk saving the index at the crawl's end (an I/O error here; a Redis error
    alike) fails the run as a full disk does: Scrapy only logged a signal handler's error, and the run
    published a version without this crawl's keys in the index."""
    root = tmp_path / "root"
    result = subprocess.run([str(ROOT / ".venv/bin/python"), "-m", "tests.disk_full", "*/dedupe-index/.seg-*.tmp-*/*",
                             "run", "--base-url", replica.base_url, "--day", "2025-02-03", "--out", str(root),
                             "--name", "ds", "--json"], capture_output=True, text=True, timeout=300, cwd=ROOT,
                            check=False, env={**os.environ, "DISK_FAULT_ERRNO": "EIO"})
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    [line] = [s for s in result.stderr.splitlines() if s.startswith("paperset run: ")]
    assert "the near-duplicate index was not saved (OSError: [Errno 5] Input/output error" in line, line
    assert line.endswith("nothing published; the next run with the same arguments resumes it"), line
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert (outcome["outcome"], outcome["exit_code"], outcome["version"]) == ("failed", 1, None)
    assert sorted(p.name for p in (root / "ds").iterdir() if p.name != "archive") == [".lock", ".runs"]
