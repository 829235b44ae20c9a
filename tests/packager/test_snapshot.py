"""`paperset run` end to end on the replica: a snapshot every reader loads alike, versions that change
only when the data does, a card whose snippets run, Croissant that validates, verify and diff."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from paperset.crawler.replica.server import ReplicaServer
from tests.conftest import run_paperset

pytestmark = pytest.mark.slow  # runs `paperset` end to end, several seconds a test (docs/testing.md)

DAYS = "2025-02-03:2025-02-07"


def run(server: ReplicaServer, root: Path, *extra: str) -> dict:
    result = run_paperset("run", "--base-url", server.base_url, "--range", DAYS, "--search", "WebSailor",
                          "--out", str(root), "--name", "papers", "--json", "-s", "AUTOTHROTTLE_ENABLED=False",
                          *extra)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    root = tmp_path_factory.mktemp("datasets")
    with ReplicaServer() as server:
        first = run(server, root)
        again = run(server, root)
        # The site moves on: one more paper listed on 2025-02-04, and a counter moves.
        day = server.site.listings["day", "2025-02-04"]
        extra = copy.deepcopy(server.site.papers["2502.20730"])
        extra["_rank"] = len(day)
        day.append(extra)
        moved = day[0]
        moved["paper"]["upvotes"] += 5
        third = run(server, root)
    return root, first, again, third, moved["paper"]["id"]


def test_the_second_run_over_the_same_data_publishes_nothing(published) -> None:
    _root, first, again, _, _ = published
    assert first["changed"] and first["version"] and first["verified"]
    assert again["changed"] is False and again["version"] is None and again["parent"] == first["version"]
    expected_papers = sum(1 for d in ("2025-02-03", "2025-02-04", "2025-02-05", "2025-02-06", "2025-02-07")
                          for _ in ReplicaServer().site.items("day", d)) + 2
    assert first["papers"] == expected_papers


def test_a_changed_site_gives_a_version_whose_changes_name_exactly_that(published) -> None:
    root, first, _, third, moved = published
    assert third["changed"] and third["parent"] == first["version"]
    assert (third["added"], third["changed_papers"], third["removed"]) == (1, 1, 0)
    changes = (Path(third["path"]) / "CHANGES.md").read_text()
    assert "## Added\n\n- `2502.20730`\n" in changes
    assert f"## Changed\n\n- `{moved}`: upvotes, last_seen_at\n" in changes
    assert (root / "papers" / "LATEST").read_text().strip() == third["version"]


def test_readers_load_the_same_rows(published) -> None:
    import duckdb
    import polars as pl
    from datasets import load_dataset

    version = Path(published[3]["path"])
    files = str(version / "papers" / "*.parquet")
    by_files = load_dataset("parquet", data_files=files, split="train")
    by_card = load_dataset(str(version), "papers", split="train")
    ids_duck = [r[0] for r in duckdb.sql(f"SELECT paper_key FROM '{files}' ORDER BY paper_key").fetchall()]
    ids_polars = pl.read_parquet(files).sort("paper_key")["paper_key"].to_list()
    assert sorted(by_files["paper_key"]) == sorted(by_card["paper_key"]) == ids_duck == ids_polars
    assert len(ids_duck) == published[3]["papers"]
    observations = load_dataset(str(version), "observations", split="train")
    assert observations.num_rows == published[3]["observations"]
    row = duckdb.sql(f"SELECT title, listings FROM '{files}' WHERE paper_key = '2509.13305'").fetchall()[0]
    assert row[0].startswith("WebSailor-V2") and row[1][0]["kind"] == "search"
    linked = duckdb.sql(f"SELECT paper_key, cluster_id FROM '{files}' WHERE cluster_id IS NOT NULL "
                        "ORDER BY paper_key").fetchall()
    # Both kept, one cluster, named by its smallest key, whichever the crawl met first (the search lists
    # V2 first).
    assert linked == [("2507.02592", "2507.02592"), ("2509.13305", "2507.02592")]


def test_the_cards_snippets_run(published) -> None:
    version = Path(published[3]["path"])
    card = (version / "README.md").read_text()
    snippets = [s for s in re.findall(r"```python\n(.*?)```", card, re.S) if "OWNER/" not in s]  # Hub: test_hub_card
    assert len(snippets) == 5
    for snippet in snippets:
        subprocess.run([sys.executable, "-c", snippet], cwd=version, check=True, capture_output=True, timeout=120)
    front = card.split("---")[1]
    import yaml

    meta = yaml.safe_load(front)
    assert [c["config_name"] for c in meta["configs"]] == ["papers", "observations", "changes"]


def test_croissant_validates(published) -> None:
    import mlcroissant as mlc

    dataset = mlc.Dataset(jsonld=str(Path(published[3]["path"]) / "croissant.json"))
    assert dataset.metadata.name == "papers"
    records = list(dataset.records(record_set="papers"))
    assert len(records) == published[3]["papers"]


def test_verify_and_diff(published) -> None:
    _root, first, _, third, _moved = published
    ok = run_paperset("verify", third["path"])
    assert ok.returncode == 0 and ok.stdout.strip().endswith("verified")
    diff = run_paperset("diff", first["path"], third["path"])
    assert diff.returncode == 0 and "1 added, 0 removed, 1 changed" in diff.stdout


def test_verify_finds_a_changed_file(published, tmp_path) -> None:
    import shutil

    copy_dir = tmp_path / "copy"
    shutil.copytree(published[3]["path"], copy_dir)
    (copy_dir / "CHANGES.md").write_text("tampered")
    result = run_paperset("verify", str(copy_dir))
    assert result.returncode == 1
    assert "CHANGES.md: checksum or size differs from the manifest" in result.stdout
