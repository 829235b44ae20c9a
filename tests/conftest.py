"""Shared test fixtures: repository paths and the shared real data."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real captures and API corpus beside the checkout (`../shared/data/hf-papers`)."""
    path = SHARED / "data" / "hf-papers"
    if not path.is_dir():
        pytest.fail(f"the shared data folder is missing: {path} (clone the repository beside shared/)")
    return path


@pytest.fixture(scope="session")
def replica():
    """The bundled replica served on a free loopback port for the whole session."""
    from crawler.replica.server import ReplicaServer

    with ReplicaServer() as server:
        yield server


def run_paperset(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the `paperset` console script of this checkout's venv; fail the test with its output on error."""
    result = subprocess.run([str(ROOT / ".venv/bin/paperset"), *args], capture_output=True, text=True,
                            timeout=timeout, cwd=ROOT)
    return result


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# Columns that say when a crawl saw something: they differ between two crawls of the same data.
TIME_COLUMNS = {"papers": ("first_seen_at", "last_seen_at"), "observations": ("observed_at",)}


def snapshot_rows(version: Path) -> dict[str, list[dict]]:
    """Both tables of a snapshot as rows in file order, without the columns that record crawl times
    (and without `seen_at` inside `listings`): what two crawls of the same site must agree on."""
    import pyarrow.parquet as pq

    out: dict[str, list[dict]] = {}
    for table, dropped in TIME_COLUMNS.items():
        rows = pq.read_table(sorted((version / table).glob("part-*.parquet"))).to_pylist()
        for row in rows:
            for name in dropped:
                row.pop(name)
            for listing in row.get("listings") or []:
                listing.pop("seen_at")
        out[table] = rows
    return out
