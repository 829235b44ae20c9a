"""The repository stands alone: a clone with nothing beside it has every file the tests, benches and
replica read, and no tracked file reaches outside the repository."""

from __future__ import annotations

import gzip
import json
import re
import subprocess

from .conftest import CORPUS, ROOT

# What reads outside the checkout: the old shared folder beside it, or a path built from its parent.
OUTSIDE = re.compile(r"\.\./shared|(?:ROOT|REPO)\.parent\b|parents\[2\] / \"shared\"")


def test_a_fresh_clone_names_nothing_outside_the_repository(tmp_path) -> None:
    clone = tmp_path / "empty" / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, capture_output=True)
    assert sorted(p.name for p in clone.parent.iterdir()) == ["clone"]
    tracked = subprocess.run(["git", "ls-files"], cwd=clone, capture_output=True, text=True, check=True)
    offenders = []
    for name in tracked.stdout.splitlines():
        path = clone / name
        if path.suffix in {".py", ".sh", ".toml", ".cfg", ".yml", ".md", ".example", ".service"} or \
                name in {"Makefile", ".ci/run"}:
            text = path.read_text(encoding="utf-8", errors="replace")
            offenders += [f"{name}: {m.group(0)}" for m in OUTSIDE.finditer(text)]
    assert offenders == []
    # The corpus slice the tests and benches read is tracked, and small.
    assert (clone / CORPUS.relative_to(ROOT)).stat().st_size < 5_000_000


def test_the_corpus_slice_holds_the_papers_the_tests_need() -> None:
    with gzip.open(CORPUS, "rt", encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    ids = {row["paper"]["id"] for row in rows}
    assert len(rows) == 3942
    assert {"2507.02592", "2509.13305", "2512.10739", "2512.10756", "2407.21783", "2502.20730"} <= ids
    assert sum(1 for row in rows if row["paper"].get("summary")) >= 3000
