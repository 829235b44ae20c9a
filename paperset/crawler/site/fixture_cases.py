"""Saving fixture cases: a saved page or API answer in `cases/<extractor>/<name>/` with `meta.json` and the
`expected.json` extraction gives (the tests' loader is tests/fixture_cases.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from paperset.crawler.site.kinds import KINDS, daily_api_kinds, page_query_kinds, page_segments
from paperset.crawler.site.pages import (
    ExtractionError,
    paper_id_from_href,
    parse_api_listing,
    parse_api_paper,
    parse_listing,
    parse_paper_page,
)

# One folder per extractor under `cases/`, and the file each one's saved input is in.
INPUT_FILES = {"listing_page": "page.html", "paper_page": "page.html", "api_listing": "answer.json",
               "api_paper": "answer.json"}

# Filled by the spider, not by extraction: left out of expected.json.
CRAWL_ONLY_FIELDS = (
    "crawled_at", "fetch_path", "arxiv_version", "content_key", "paper_key", "cluster_id", "similarity",
)


def _entry_dict(entry: Any) -> dict[str, Any]:
    data = entry.to_dict()
    for name in CRAWL_ONLY_FIELDS:
        data.pop(name, None)
    return data


def extract(extractor: str, text: str, meta: dict[str, Any]) -> dict[str, Any]:
    """What the current extraction code gives for a saved input, in expected.json's shape."""
    url = meta["url"]
    if extractor == "listing_page":
        page = parse_listing(text, url=url, kind=meta["listing_kind"], key=meta["listing_key"])
        return {"source": page.source, "problems": page.problems, "page_key": page.page_key,
                "entries": [_entry_dict(e) for e in page.entries]}
    try:
        if extractor == "paper_page":
            entries = [parse_paper_page(text, url=url)]
        elif extractor == "api_paper":
            entries = [parse_api_paper(text, url=url)]
        elif extractor == "api_listing":
            entries = parse_api_listing(text, url=url, kind=meta["listing_kind"], key=meta["listing_key"],
                                        offset=meta.get("offset", 0))
        else:
            raise ValueError(f"unknown extractor {extractor!r}: one of {', '.join(INPUT_FILES)}")
    except ExtractionError as exc:
        return {"problems": [exc.reason], "entries": []}
    return {"problems": [], "entries": [_entry_dict(e) for e in entries]}


def meta_for_url(url: str) -> tuple[str, dict[str, Any]]:
    """The extractor a site URL needs and what it shows: a listing page (`/papers/date/D`, `/papers/week/W`,
    `?q=`, trending), a paper page (`/papers/ID`), an API listing (`/api/daily_papers?date=D&limit=L&p=P`,
    `/api/papers/search?q=`) or an API paper (`/api/papers/ID`)."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    query = parse_qs(parts.query)
    if segments[:1] == ["api"]:
        return _api_meta(segments, query, url)
    for param, kind in page_query_kinds().items():
        if param in query:
            return "listing_page", {"page_type": "listing", "listing_kind": kind, "listing_key": query[param][0]}
    if len(segments) == 3 and segments[0] == "papers" and segments[1] in page_segments():
        kind = page_segments()[segments[1]]
        return "listing_page", {"page_type": "listing", "listing_kind": kind, "listing_key": segments[2]}
    for kind in KINDS.values():  # a kind with a fixed page (trending)
        if "{key}" not in kind.pages[0] and parts.path.rstrip("/") == kind.pages[0]:
            return "listing_page", {"page_type": "listing", "listing_kind": kind.name, "listing_key": kind.name}
    if paper_id_from_href(parts.path):
        return "paper_page", {"page_type": "paper"}
    raise ValueError(f"not a Hugging Face Papers listing, paper or API URL: {url}")


def _api_meta(segments: list[str], query: dict[str, list[str]], url: str) -> tuple[str, dict[str, Any]]:
    try:
        offset = int(query.get("limit", ["0"])[0]) * int(query.get("p", ["0"])[0])
    except ValueError:
        raise ValueError(f"bad limit or p in {url}") from None
    if segments == ["api", "papers", "search"] and "q" in query:
        return "api_listing", {"listing_kind": "search", "listing_key": query["q"][0], "offset": offset}
    if segments == ["api", "daily_papers"]:
        for param, kind in daily_api_kinds().items():
            if param in query:
                return "api_listing", {"listing_kind": kind, "listing_key": query[param][0], "offset": offset}
    is_paper = len(segments) == 3 and paper_id_from_href(f"/papers/{segments[2]}")
    if segments[:2] == ["api", "papers"] and is_paper:
        return "api_paper", {}
    raise ValueError(f"not a Hugging Face Papers API listing or paper URL: {url}")


def save_case(root: Path, name: str, url: str, body: str, *, headers: dict[str, str], rendered: bool,
              captured_at: str, provenance: str | None = None) -> Path:
    """Write a new case folder `root/cases/<extractor>/<name>` (refusing to overwrite one) with the input,
    its meta and expected.json; return the folder."""
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"bad case name: {name!r}")
    extractor, shown = meta_for_url(url)
    folder = root / "cases" / extractor / name
    folder.mkdir(parents=True, exist_ok=False)
    (folder / INPUT_FILES[extractor]).write_text(body, encoding="utf-8")
    meta = {"url": url, **shown, "captured_at": captured_at, "rendered": rendered, "headers": headers,
            "provenance": provenance or f"saved by `paperset fixture save` from {url}"}
    (folder / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    expected = extract(extractor, body, meta)
    (folder / "expected.json").write_text(json.dumps(expected, indent=2, ensure_ascii=False) + "\n",
                                          encoding="utf-8")
    return folder


def _differences(old: Any, new: Any, path: str = "") -> list[str]:
    """The places (`entries[3].discussion_id`, ...) where `new` differs from `old`, with how."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in [*old, *(k for k in new if k not in old)]:
            where = f"{path}.{key}" if path else key
            if key not in new:
                out.append(f"{where}: removed")
            elif key not in old:
                out.append(f"{where}: added")
            else:
                out += _differences(old[key], new[key], where)
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new) and path.endswith("entries"):
        return [d for i, (a, b) in enumerate(zip(old, new, strict=True)) for d in _differences(a, b, f"{path}[{i}]")]
    return [] if old == new else [f"{path}: changed"]


def diff_summary(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What changed between two expected.json values, one line per kind of change (`entries[].x: added
    (41)`), the entry index folded away so that a new column over 41 entries is one line."""
    counts: dict[str, int] = {}
    for line in _differences(old, new):
        key = re.sub(r"\[\d+\]", "[]", line)
        counts[key] = counts.get(key, 0) + 1
    return [f"{k} ({n})" if n > 1 else k for k, n in counts.items()]


def update_case(folder: Path) -> list[str]:
    """Rewrite a case's expected.json from the current extraction; return the diff summary (empty when
    nothing changed, and then the file is left as it is)."""
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    extractor = folder.parent.name
    text = (folder / meta.get("file", INPUT_FILES[extractor])).read_text(encoding="utf-8")
    path = folder / "expected.json"
    old = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    new = extract(extractor, text, meta)
    summary = diff_summary(old, new)
    if summary:
        path.write_text(json.dumps(new, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return summary


def case_folders(root: Path, names: list[str] | None = None) -> list[Path]:
    """The case folders under `root/cases/` (`extractor/name`), or those of `names` (`extractor/name` or
    a bare name); ValueError for a name that is no case."""
    every = sorted(m.parent for m in (root / "cases").glob("*/*/meta.json"))
    if not names:
        return every
    chosen = []
    for name in names:
        found = [f for f in every if name in (f.name, f"{f.parent.name}/{f.name}")]
        if not found:
            raise ValueError(f"no fixture case {name!r} under {root / 'cases'}")
        chosen += found
    return chosen
