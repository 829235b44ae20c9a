"""Fixture cases: a saved page in a folder with `meta.json` and the `expected.json` extraction must give."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crawler.pages.hf import HydrationError, parse_listing, parse_paper_page

# Filled by the spider, not by extraction: left out of expected.json.
CRAWL_ONLY_FIELDS = (
    "crawled_at", "fetch_path", "arxiv_version", "content_key", "paper_key", "cluster_id", "similarity",
)


@dataclass(frozen=True)
class FixtureCase:
    """One case folder: `page.html`, `meta.json` (url, page type, listing, provenance), `expected.json`."""

    path: Path
    meta: dict[str, Any]

    @classmethod
    def load(cls, path: Path) -> FixtureCase:
        return cls(path=path, meta=json.loads((path / "meta.json").read_text(encoding="utf-8")))

    @property
    def page(self) -> str:
        return (self.path / self.meta.get("file", "page.html")).read_text(encoding="utf-8")

    def expected(self) -> dict[str, Any]:
        return json.loads((self.path / "expected.json").read_text(encoding="utf-8"))


def _entry_dict(entry: Any) -> dict[str, Any]:
    data = entry.to_dict()
    for name in CRAWL_ONLY_FIELDS:
        data.pop(name, None)
    return data


def extract_case(case: FixtureCase) -> dict[str, Any]:
    """What the current extraction code gives for the case's page, in expected.json's shape."""
    url = case.meta["url"]
    if case.meta["page_type"] == "paper":
        try:
            entry = parse_paper_page(case.page, url=url)
        except HydrationError as exc:
            return {"problems": [exc.reason], "entries": []}
        return {"problems": [], "entries": [_entry_dict(entry)]}
    page = parse_listing(case.page, url=url, kind=case.meta["listing_kind"], key=case.meta["listing_key"])
    return {
        "source": page.source,
        "problems": page.problems,
        "page_key": page.page_key,
        "entries": [_entry_dict(e) for e in page.entries],
    }


def find_cases(root: Path) -> list[FixtureCase]:
    """Every case folder under root (a folder with a meta.json), sorted by name."""
    return [FixtureCase.load(meta.parent) for meta in sorted(root.glob("*/meta.json"))]


def write_expected(case: FixtureCase) -> Path:
    """(Re)write a case's expected.json from the current extraction, for a person to review."""
    target = case.path / "expected.json"
    target.write_text(json.dumps(extract_case(case), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return target
