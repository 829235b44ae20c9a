"""Bad input and kills never publish half a version: truncated or unknown spools, unwritable output, bad
names, and kill -9 at random points."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from paperset.crawler.site.kinds import daily_kinds
from paperset.packager.manifest import problems
from tests.conftest import ROOT, slow_paperset

from .conftest import make_spool, package, published

pytestmark = pytest.mark.slow  # runs `paperset` end to end, several seconds a test (docs/testing.md)


def test_a_truncated_spool_is_refused_and_nothing_is_published(tmp_path, corpus_path) -> None:
    spool = make_spool(tmp_path / "spool", corpus_path)
    part = next((spool / "entries").glob("part-*.jsonl"))
    data = part.read_bytes()
    part.write_bytes(data[: len(data) // 2])  # cut mid-line
    result = package(spool, tmp_path / "out")
    assert result.returncode == 1
    assert "a cut or broken line" in result.stderr and "nothing was published" in result.stderr
    assert published(tmp_path / "out") == []


def test_an_unfinished_spool_needs_allow_partial_and_then_skips_the_cut_line(tmp_path, corpus_path) -> None:
    spool = make_spool(tmp_path / "spool", corpus_path, finish=False)
    part = next((spool / "entries").glob("part-*.jsonl"))
    lines = part.read_text().splitlines(keepends=True)
    part.write_text("".join(lines[:-1]) + lines[-1][:40])
    refused = package(spool, tmp_path / "out")
    assert refused.returncode == 1 and "did not finish" in refused.stderr
    result = package(spool, tmp_path / "out", "ds", "--allow-partial", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1])["observations"] == len(lines) - 1


def test_an_unknown_spool_schema_is_refused(tmp_path, corpus_path) -> None:
    spool = make_spool(tmp_path / "spool", corpus_path)
    meta = json.loads((spool / "meta.json").read_text())
    meta["schema"] = "paperset.spool/99"
    (spool / "meta.json").write_text(json.dumps(meta))
    result = package(spool, tmp_path / "out")
    assert result.returncode == 1 and "unknown spool schema 'paperset.spool/99'" in result.stderr
    assert published(tmp_path / "out") == []


@pytest.mark.parametrize("name", ["../escape", "a/b", "..", ".hidden", ""])
def test_bad_names_are_refused(tmp_path, corpus_path, name) -> None:
    spool = make_spool(tmp_path / "spool", corpus_path, 10)
    result = package(spool, tmp_path / "out", name)
    assert result.returncode == 2 and "bad dataset name" in result.stderr
    assert not (tmp_path / "escape").exists()
    assert not (tmp_path / "out").exists()


def test_an_output_that_cannot_be_written_is_refused(tmp_path, corpus_path) -> None:
    spool = make_spool(tmp_path / "spool", corpus_path, 10)
    blocker = tmp_path / "file"
    blocker.write_text("a file where the output folder should be")
    result = package(spool, blocker)
    assert result.returncode == 2
    assert result.stderr == f"paperset package: output folder {blocker / 'ds'}: {blocker} is a file, not a folder\n"
    assert blocker.read_text() == "a file where the output folder should be"


def test_kill_9_at_random_points_never_leaves_half_a_version(tmp_path, corpus_path) -> None:
    from paperset.packager.build import STEPS

    # A different spool each time, so every attempt has real work to do (more papers each time).
    spools = [make_spool(tmp_path / f"spool{i}", corpus_path, 100 + 60 * i) for i in range(13)]
    root = tmp_path / "out"
    rng = random.Random(5)
    killed_after: list[int] = []
    for n, spool in enumerate(spools):
        proc = subprocess.Popen([*slow_paperset(0.1), "package", "--spool", str(spool), "--out", str(root),
                                 "--name", "ds"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True)
        last = n == len(spools) - 1
        # Kill right after a chosen step began (every step is hit across the loop), never the last attempt.
        step = n % len(STEPS)
        seen = -1
        for line in proc.stderr:
            if line.startswith("packaging: "):
                seen += 1
                if seen == step and not last:
                    time.sleep(rng.uniform(0, 0.08))
                    proc.send_signal(signal.SIGKILL)
                    killed_after.append(step)
                    break
        proc.wait()
        dataset = root / "ds"
        versions = [v for v in published(root) if v != "LATEST"]
        latest = (dataset / "LATEST").read_text().strip() if (dataset / "LATEST").exists() else None
        assert latest is None or latest in versions
        for version in versions:
            assert problems(dataset / version) == [], version
    assert sorted(set(killed_after)) == list(range(len(STEPS)))
    assert proc.returncode == 0 and (root / "ds" / "LATEST").exists()


def test_page_text_cannot_break_the_card(tmp_path, corpus_path) -> None:
    import yaml

    spool = make_spool(tmp_path / "spool", corpus_path, 3)
    part = next((spool / "entries").glob("part-*.jsonl"))
    first = json.loads(part.read_text().splitlines()[0])
    first.update(paper_key="2501.00001", paper_id="2501.00001",
                 title="---\nname: x | col | `code` [link](http://x) <b>bold</b> # heading")
    part.write_text(part.read_text() + json.dumps(first) + "\n")
    result = package(spool, tmp_path / "out", "ds", "--json")
    assert result.returncode == 0, result.stderr
    card = (Path(json.loads(result.stdout.splitlines()[-1])["path"]) / "README.md").read_text()
    front = yaml.safe_load(card.split("---\n")[1])
    assert front["pretty_name"] == "ds"
    row = next(line for line in card.splitlines() if "2501.00001" in line)
    assert row.count(" | ") == 1  # still a two-column table row
    assert r"name: x \| col \| \`code\` \[link\]\(http://x\) \<b\>bold\</b\> \# heading" in row


def test_unchanged_data_gives_identical_bytes(tmp_path, corpus_path) -> None:
    from datetime import UTC, datetime

    from paperset.packager.build import package as publish

    spool = make_spool(tmp_path / "spool", corpus_path, 400)
    now = datetime(2026, 1, 2, tzinfo=UTC)
    first = publish([spool], tmp_path / "a", "ds", now=now, daily_kinds=daily_kinds())
    second = publish([spool], tmp_path / "b", "ds", now=now, daily_kinds=daily_kinds())
    for table in ("papers", "observations"):
        a = sorted((Path(first.path) / table).glob("*.parquet"))
        b = sorted((Path(second.path) / table).glob("*.parquet"))
        assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    assert (first.papers, first.observations) == (second.papers, second.observations)
