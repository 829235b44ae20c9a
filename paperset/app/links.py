"""What `paperset run` does for `--links` (paperset/crawler/spiders/links.py, paperset/packager/links.py): the links'
own counters in the crawl summary, and the papers whose links the latest version holds as unknown, asked first."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def links_counters(stats: dict[str, Any]) -> dict[str, Any]:
    """The Hub links' own counters (paperset/crawler/spiders/links.py), as the crawl summary's `links`."""
    prefix = "paperset/links/"
    return {"links": {k.removeprefix(prefix): v for k, v in stats.items() if k.startswith(prefix)}}


def links_retry(dataset: Path, run_dir: Path) -> dict[str, Any]:
    """PAPERSET_LINKS_RETRY: the papers whose links the latest version holds as unknown, asked first."""
    from paperset.packager.build import latest
    from paperset.packager.links import unknown_papers

    version = latest(dataset) if dataset.is_dir() else None
    ids = unknown_papers(dataset / version) if version else []
    if not ids:
        return {}
    (run_dir / "links-retry.json").write_text(json.dumps(ids), encoding="utf-8")
    return {"PAPERSET_LINKS_RETRY": str(run_dir / "links-retry.json")}
