"""The dataset card to the Hub's conventions: YAML written by DatasetCardData (every field checked through
huggingface_hub.DatasetCard), the sections the Hub's guide expects, snippets that run (the Hub form
against the stand-in), provenance without local paths, coverage over the range asked for."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from paperset.packager import card
from paperset.packager.chart import chart
from paperset.packager.tables import CHANGES, OBSERVATIONS, PAPERS
from tests.conftest import ROOT, corpus_spool, last_json, run_paperset

from .conftest import TOKEN, paperset
from .hub_standin import HubStandIn

pytestmark = pytest.mark.slow  # runs `paperset` end to end, several seconds a test (docs/testing.md)

SECRET_DIR = "/home/operator/private-jobs"


def spool(folder: Path, corpus_path: Path, count: int, listings: list[list[str]]) -> Path:
    return corpus_spool(folder, corpus_path, count, meta={
        "run_id": "run-1", "base_url": "http://127.0.0.1:8123", "listings": listings,
        "settings": {"PAPERSET_SPOOL": f"{SECRET_DIR}/spool", "PAPERSET_REJECTS": f"{SECRET_DIR}/rejects.jsonl",
                     "PAPERSET_DEDUPE_STORE": f"{SECRET_DIR}/dedupe-index"}})

def package(folder: Path, root: Path, name: str) -> Path:
    result = run_paperset("package", "--spool", str(folder), "--out", str(root), "--name", name, "--json")
    assert result.returncode == 0, result.stderr
    return Path(last_json(result.stdout)["path"])


def test_the_card_parses_with_every_hub_field(tmp_path, corpus_path) -> None:
    from datasets import Features
    from huggingface_hub import DatasetCard

    asked = [["day", (date(2024, 8, 1) + timedelta(days=i)).isoformat()] for i in range(365)]
    version = package(spool(tmp_path / "spool", corpus_path, 40, asked), tmp_path / "out", "1.10")
    text = (version / "README.md").read_text()
    data = DatasetCard.load(version / "README.md").data
    assert data.pretty_name == "1.10"  # a string, not the float 1.1
    assert (data.license, data.license_name, data.language) == ("other", "source-terms", ["en"])
    assert data.task_categories == ["text-classification", "text-retrieval", "summarization"]
    assert (data.size_categories, data.source_datasets, data.annotations_creators) == (
        ["n<1K"], ["original"], ["machine-generated"])
    assert [(c["config_name"], c["data_files"][0]["path"]) for c in data.configs] == [
        ("papers", "papers/*.parquet"), ("observations", "observations/*.parquet"), ("changes", "changes/*.parquet")]
    infos = {i["config_name"]: i for i in data.dataset_info}
    for config, schema in (("papers", PAPERS), ("observations", OBSERVATIONS), ("changes", CHANGES)):
        parts = sorted((version / config).glob("*.parquet"))
        assert infos[config]["features"] == Features.from_arrow_schema(schema)._to_yaml_list()
        rows = sum(pq.ParquetFile(p).metadata.num_rows for p in parts)
        assert infos[config]["splits"] == [{"name": "train", "num_bytes": infos[config]["dataset_size"],
                                            "num_examples": rows}]
        assert infos[config]["download_size"] == sum(p.stat().st_size for p in parts)
    assert infos["papers"]["splits"][0]["num_examples"] == 40
    for heading in ("## Uses", "### Out-of-scope uses", "## Personal information", "## Example row",
                    "## Citation", "## Contact", "## Provenance and terms"):
        assert f"\n{heading}\n" in text, heading
    example = json.loads(re.search(r"```json\n(.*?)```", text, re.S).group(1))
    first = pq.read_table(version / "papers").slice(0, 1).to_pylist()[0]
    assert (example["paper_key"], example["title"]) == (first["paper_key"], first["title"])
    source, bib = re.findall(r"```bibtex\n(.*?)```", text, re.S)
    assert source.startswith("@misc{hf_daily_papers,") and "https://huggingface.co/papers" in source
    assert bib.startswith("@misc{1_10_") and f"version = {{{version.name}}}" in bib and "OWNER" not in bib
    # Provenance: the base URL crawled, no local path of the building machine (card and manifest).
    manifest = (version / "manifest.json").read_text()
    assert SECRET_DIR not in text and SECRET_DIR not in manifest and str(tmp_path) not in text
    assert "<local>/spool" in manifest and "Crawled from http://127.0.0.1:8123" in text
    # Coverage over the 365 days asked for (261 weekdays), not only between the first and last day with papers.
    days_with_papers = {r["listing_key"] for r in pq.read_table(version / "observations").to_pylist()}
    weekdays = [d for _, d in asked if date.fromisoformat(d).weekday() < 5 and d not in days_with_papers]
    assert f"Coverage gaps (weekdays asked for with no papers listed): {len(weekdays)}: {weekdays[0]}," in text


def test_coverage_table_and_chart_for_a_year() -> None:
    year = [((date(2025, 1, 1) + timedelta(days=i)).isoformat(), 10) for i in range(365)]
    assert card.table_rows(year[:60]) == ("day", year[:60])
    kind, months = card.table_rows(year)
    assert kind == "month" and months[0] == ("2025-01", 310) and len(months) == 12
    assert card.asked_days([["week", "2025-W02"], ["month", "2025-02"]])[:2] == ["2025-01-06", "2025-01-07"]
    assert len(card.asked_days([["month", "2025-02"]])) == 28
    assert card.gaps([("2025-01-07", 3)], ["2025-01-04", "2025-01-06", "2025-01-07", "2025-01-08"]) == [
        "2025-01-06", "2025-01-08"]
    assert card.gaps([("2025-01-06", 1), ("2025-01-08", 2)]) == ["2025-01-07"]


def test_the_cards_snippets_run_locally_and_from_the_hub(tmp_path, corpus_path) -> None:
    version = package(spool(tmp_path / "spool", corpus_path, 30, []), tmp_path / "out", "papers")
    snippets = re.findall(r"```python\n(.*?)```", (version / "README.md").read_text(), re.S)
    hub_form = [s for s in snippets if "OWNER/" in s]
    assert len(hub_form) == 1 and len(snippets) == 6
    assert f'load_dataset("OWNER/papers", "papers", split="train", revision="{version.name}")' in hub_form[0]
    for snippet in snippets:
        if "dtype_backend" in snippet:  # integers with nulls stay integers in pandas
            snippet += "assert str(papers['github_stars'].dtype) == 'int64[pyarrow]'\n"
        if snippet not in hub_form:
            subprocess.run([sys.executable, "-c", snippet], cwd=version, check=True, capture_output=True, timeout=120)
    with HubStandIn(TOKEN) as hub:
        up = paperset(hub, tmp_path / "home", "publish", str(version), "hf://datasets/someone/papers", "--upload")
        assert up.returncode == 0, up.stderr
        code = hub_form[0].replace("OWNER/", "someone/") + "\nprint(len(papers), papers[0]['paper_key'])\n"
        env_run = subprocess.run([str(ROOT / ".venv/bin/python"), "-c", code], capture_output=True, text=True,
                                 timeout=300, env=_hub_env(hub, tmp_path / "home2"))
        assert env_run.returncode == 0, env_run.stderr[-2000:]
        first = pq.read_table(version / "papers").column("paper_key")[0].as_py()
        assert env_run.stdout.strip() == f"30 {first}"
        assert any(f"/resolve/{version.name}/" in r["path"] for r in hub.requests)  # asked by the tag


def _hub_env(hub: HubStandIn, home: Path) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(HF_ENDPOINT=hub.endpoint, HF_HOME=str(home), HF_HUB_DISABLE_TELEMETRY="1")
    return env


def test_the_chart_of_a_year_is_a_deterministic_png(tmp_path) -> None:
    year = [((date(2025, 1, 1) + timedelta(days=i)).isoformat(), i % 7) for i in range(365)]
    chart(year, tmp_path / "a.png")
    chart(year, tmp_path / "b.png")
    data = (tmp_path / "a.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data == (tmp_path / "b.png").read_bytes()
