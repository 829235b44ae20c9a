"""Scrapy's own check for this project: the fixture cases.

Scrapy's habit is `scrapy check`: contracts in the callbacks' docstrings fetch a page and check what the
callback makes of it. Here the pages that matter are saved: every case under `fixtures/cases/`
(a page or API answer, with the `expected.json` its extraction must give, paperset/crawler/site/fixture_cases.py) is
the contract. `check_cases` extracts each case's input with the current page code and names every case
whose result differs; `paperset fixture check` runs it, and `scrapy check` runs it too, through the
`@fixture_cases` contract of the spider's `fixture_cases` method (SPIDER_CONTRACTS in
paperset.crawler.settings).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scrapy.contracts import Contract
from scrapy.exceptions import ContractFail

from paperset.crawler.site.fixture_cases import INPUT_FILES, extract

# Where `scrapy check` looks when the contract names no folder: relative to the project (scrapy.cfg) folder.
DEFAULT_FIXTURES = "fixtures"


def case_folders(fixtures: Path) -> list[Path]:
    """Every case folder under `fixtures/cases/` (one with a meta.json, in a folder named for its extractor)."""
    return [meta.parent for meta in sorted((fixtures / "cases").glob("*/*/meta.json"))]


def check_case(folder: Path) -> str | None:
    """None when the case's input extracts to its expected.json; else what differs, in one line."""
    extractor = folder.parent.name
    meta: dict[str, Any] = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    text = (folder / meta.get("file", INPUT_FILES[extractor])).read_text(encoding="utf-8")
    got = extract(extractor, text, meta)
    want = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    if got == want:
        return None
    if got.get("entries") != want.get("entries") and len(got.get("entries", [])) == len(want.get("entries", [])):
        pairs = zip(got["entries"], want["entries"], strict=True)
        n, (left, right) = next((n, p) for n, p in enumerate(pairs) if p[0] != p[1])
        keys = sorted(k for k in set(left) | set(right) if left.get(k) != right.get(k))
        return f"entry {n}: {', '.join(keys)} differ"
    keys = sorted(k for k in set(got) | set(want) if got.get(k) != want.get(k))
    return f"{', '.join(keys)} differ ({len(got.get('entries', []))} entries, expected {len(want.get('entries', []))})"


def check_cases(fixtures: Path) -> tuple[int, list[str]]:
    """(cases checked, `extractor/name: what differs` for each failing case). ValueError when there is no
    case under `fixtures/cases/` (a wrong folder must not pass as a clean check)."""
    folders = case_folders(fixtures)
    if not folders:
        raise ValueError(f"no fixture cases under {fixtures / 'cases'}")
    failures = []
    for folder in folders:
        problem = check_case(folder)
        if problem is not None:
            failures.append(f"{folder.parent.name}/{folder.name}: {problem}")
    return len(folders), failures


class FixtureCasesContract(Contract):
    """`@fixture_cases [FOLDER]`: every fixture case under FOLDER (default `fixtures`) extracts to its
    expected.json. Used with `@url data:,` (the callback is handed an empty answer it ignores)."""

    name = "fixture_cases"

    def post_process(self, output: list[Any]) -> None:
        fixtures = Path(self.args[0] if self.args else DEFAULT_FIXTURES)
        count, failures = check_cases(fixtures)
        if failures:
            raise ContractFail(f"{len(failures)} of {count} fixture cases differ: " + "; ".join(failures))
