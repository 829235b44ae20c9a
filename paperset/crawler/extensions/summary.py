"""A crawl's summary from its stats: what happened to every input, for people and for `--json`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

_PREFIXES = {
    "dropped": "paperset/dropped/",
    # The refresh sweep (paperset/crawler/spiders/details.py): papers asked, failed (settled incomplete), already asked.
    "sweep": "paperset/sweep/",
    "page_problems": "paperset/pages/",
    "listings": "paperset/listings/",
    "fetch_paths": "paperset/fetch/",
    "dedupe": "paperset/dedupe/",
    "repaired": "paperset/repaired/",
    # Values that did not convert without loss, `<field>/<reason>`: kept null, or the entry rejected (in
    # `dropped`) for a field it cannot be without (paperset/crawler/clean/values.py).
    "bad_values": "paperset/bad_values/",
    # The key census (paperset/spool/fields.py): `<endpoint>/<key path>` of keys the site sent that no column maps.
    "unmapped_keys": "paperset/unmapped_keys/",
    # Columns a fetch path could not fill (a page read from its cards), `<path>/<column>`: entries left null.
    "not_on_path": "paperset/not_on_path/",
}


def summarize(stats: dict[str, Any], *, elapsed: float, out: Path | None) -> dict[str, Any]:
    """The figures a person (and a scheduler) reads after a crawl, from Scrapy's stats."""
    kept = int(stats.get("item_scraped_count", 0))
    dropped = int(stats.get("item_dropped_count", 0))
    summary: dict[str, Any] = {
        "pages_fetched": int(stats.get("response_received_count", 0)),
        "entries_found": kept + dropped,
        "entries_kept": kept,
        "entries_dropped": dropped,
        "finish_reason": stats.get("finish_reason"),
        "elapsed_s": round(elapsed, 2),
        "out": str(out) if out else None,
    }
    dedupe = {k: int(v) for k, v in stats.items() if k.startswith("paperset/dedupe/")}
    summary["papers"] = dedupe.get("paperset/dedupe/new", 0) - dedupe.get("paperset/dedupe/near_merged", 0)
    if "paperset/papers" in stats:  # counted over the spool (a distributed run's workers each dedupe apart)
        summary["papers"] = int(stats["paperset/papers"])
    # Every listing asked for and what became of it (paperset/crawler/tracking/coverage.py); None when not accounted
    # (a distributed run).
    summary["coverage"] = stats.get("paperset/coverage")
    summary["near_merged"] = dedupe.get("paperset/dedupe/near_merged", 0)
    summary["near_linked"] = dedupe.get("paperset/dedupe/near_linked", 0)
    summary["browser_pages"] = {
        "opened": int(stats.get("playwright/page_count", 0)),
        "closed": int(stats.get("playwright/page_count/closed", 0)),
    }
    for name, prefix in _PREFIXES.items():
        summary[name] = {
            key[len(prefix):]: value for key, value in sorted(stats.items()) if key.startswith(prefix)
        }
    return summary


def format_summary(summary: dict[str, Any]) -> str:
    """The summary as a few aligned lines of text."""
    lines = [
        f"pages fetched   {summary['pages_fetched']}",
        f"entries found   {summary['entries_found']}",
        f"entries kept    {summary['entries_kept']}",
        f"entries dropped {summary['entries_dropped']}",
    ]
    for reason, count in summary["dropped"].items():
        lines.append(f"  {reason:<22} {count}")
    lines += [
        f"papers kept     {summary['papers']} (distinct, after exact and near dedupe)",
        f"near merged     {summary['near_merged']} (id-less near copies folded into the paper they copy)",
        f"near linked     {summary['near_linked']} (papers with their own id linked to a near copy)",
    ]
    listings = ", ".join(f"{k} {v}" for k, v in summary["listings"].items())
    if listings:
        lines.append(f"listings        {listings}")
    for label, name in (("fetched by", "fetch_paths"), ("page problems", "page_problems"),
                        ("dedupe", "dedupe"), ("repaired", "repaired"), ("bad values", "bad_values"),
                        ("sweep", "sweep"), ("not kept", "unmapped_keys"), ("not on path", "not_on_path")):
        text = ", ".join(f"{k} {v}" for k, v in summary.get(name, {}).items())
        if text:
            lines.append(f"{label:<15} {text}")
    missing = [r for r in summary.get("coverage") or [] if r["status"] == "incomplete"]
    if missing:
        lines.append(f"incomplete      {len(missing)} of {len(summary['coverage'])} listings")
    lines.append(f"time taken      {summary['elapsed_s']:.1f} s ({summary['finish_reason']})")
    if summary["out"]:
        lines.append(f"output          {summary['out']}")
    return "\n".join(lines)
