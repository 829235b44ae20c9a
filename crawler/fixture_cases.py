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


def page_meta_for_url(url: str) -> dict[str, Any]:
    """The page type and listing a site URL shows (`/papers/date/D`, `/papers/week/W`, `?q=`, `/papers/ID`)."""
    from urllib.parse import parse_qs, urlsplit

    from crawler.pages.hf import paper_id_from_href

    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    query = parse_qs(parts.query)
    if "q" in query:
        return {"page_type": "listing", "listing_kind": "search", "listing_key": query["q"][0]}
    if "date" in query:
        return {"page_type": "listing", "listing_kind": "day", "listing_key": query["date"][0]}
    if len(segments) == 3 and segments[0] == "papers" and segments[1] in ("date", "week", "month"):
        kind = "day" if segments[1] == "date" else segments[1]
        return {"page_type": "listing", "listing_kind": kind, "listing_key": segments[2]}
    if segments == ["papers", "trending"]:
        return {"page_type": "listing", "listing_kind": "trending", "listing_key": "trending"}
    if paper_id_from_href(parts.path):
        return {"page_type": "paper"}
    raise ValueError(f"not a Hugging Face Papers listing or paper URL: {url}")


def save_case(root: Path, name: str, url: str, body: str, *, headers: dict[str, str], rendered: bool,
              captured_at: str) -> FixtureCase:
    """Write a new case folder (refusing to overwrite one) with the page, its meta and expected.json."""
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"bad case name: {name!r}")
    folder = root / name
    folder.mkdir(parents=True, exist_ok=False)
    (folder / "page.html").write_text(body, encoding="utf-8")
    meta = {"url": url, **page_meta_for_url(url), "captured_at": captured_at, "rendered": rendered,
            "headers": headers, "provenance": f"saved by `paperset fixture save` from {url}"}
    (folder / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    case = FixtureCase.load(folder)
    write_expected(case)
    return case
