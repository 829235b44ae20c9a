"""Helpers shared by the packager tests: spools of the corpus slice, `paperset package`, the Hub runner."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from paperset.packager.manifest import MANIFEST, file_entries
from tests.conftest import ROOT, corpus_spool, run_paperset

from .hub_standin import HubStandIn

# The token the Hub stand-in accepts; no command may ever print it.
TOKEN = "hf_standin_secret_0123456789"


def make_spool(folder: Path, corpus_path: Path, count: int = 300, *, finish: bool = True) -> Path:
    """A spool of real API items, as the crawl would write them (normalization aside)."""
    return corpus_spool(folder, corpus_path, count, finish=finish)

def package(spool: Path, root: Path, name: str = "ds", *extra: str) -> subprocess.CompletedProcess[str]:
    return run_paperset("package", "--spool", str(spool), "--out", str(root), "--name", name, *extra)


def published(root: Path) -> list[str]:
    """The published version folders of ROOT/ds (none when it does not exist)."""
    if not (root / "ds").exists():
        return []
    return sorted(p.name for p in (root / "ds").iterdir() if not p.name.startswith("."))


def paperset(hub: HubStandIn | None, home: Path, *args: str, token: str | None = TOKEN,
             endpoint: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(HF_HOME=str(home), HF_HUB_DISABLE_TELEMETRY="1", HF_HUB_DISABLE_PROGRESS_BARS="1",
               HF_ENDPOINT=endpoint or (hub.endpoint if hub else "http://127.0.0.1:9"))
    if token:
        env["HF_TOKEN"] = token
    result = subprocess.run([str(ROOT / ".venv/bin/paperset"), *args], capture_output=True, text=True,
                            timeout=300, cwd=ROOT, env=env)
    assert TOKEN not in result.stdout + result.stderr
    return result


def version_of(root: Path, name: str = "ds") -> Path:
    return root / name / (root / name / "LATEST").read_text().strip()


def build(tmp_path: Path, corpus_path: Path, name: str, count: int, root: Path | None = None) -> Path:
    """Package a spool of the corpus's first `count` items as the next version of ROOT/ds."""
    spool = make_spool(tmp_path / f"spool-{name}", corpus_path, count)
    root = root or tmp_path / "out"
    result = subprocess.run([str(ROOT / ".venv/bin/paperset"), "package", "--spool", str(spool), "--out", str(root),
                             "--name", "ds"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    return version_of(root)


def rewrite_tables(version: Path, tables: dict[str, pa.Table]) -> None:
    """Replace a version's tables (folder -> table) with one part each, as an earlier release wrote them,
    and its manifest's file list to match: a version of an older layout or schema."""
    for folder, table in tables.items():
        for part in (version / folder).glob("*.parquet"):
            part.unlink()
        pq.write_table(table, version / folder / "part-00000.parquet")
    manifest = json.loads((version / MANIFEST).read_text())
    manifest["files"] = file_entries(version)
    (version / MANIFEST).write_text(json.dumps(manifest))


def files_of(version: Path) -> dict[str, bytes]:
    return {p.relative_to(version).as_posix(): p.read_bytes() for p in version.rglob("*") if p.is_file()}


def posts(hub: HubStandIn, what: str) -> list[dict]:
    return [r for r in hub.requests if r["method"] == "POST" and f"/{what}" in r["path"]]


@pytest.fixture
def hub() -> Iterator[HubStandIn]:
    with HubStandIn(TOKEN) as server:
        yield server
