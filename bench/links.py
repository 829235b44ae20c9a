"""Hub links (issue 24): what `--links` costs a night, beside the same night without links.

- **calls per night**: a real `paperset crawl` of the replica's last 7 listed days (the rolling window a
  scheduled night re-crawls), links off then on; the replica's request log counts the calls (robots.txt
  left out). From the measured calls per paper: what a links pass over the whole parent costs, and in how
  many nights at `PAPERSET_LINKS_MAX_CALLS`.
- **bytes written per night**: a parent of N papers (10k, 100k; synthesized: replica link data of papers
  with made-up ids at night 0, folded by paperset/packager/links.py) and a night that looks up the links of as many
  papers as the cap allows at night 1 of the clock. Written: the link tables' bytes and rows, the bytes of
  content-defined chunks the parent lacks (what an upload to the Hub's chunk store sends), against the
  night without links (the same tables carried as they were) and against a per-night-observation layout
  (every link a row every night), counted in rows.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import print_table, write_results  # noqa: E402
from cdc import chunks, new_share  # noqa: E402

FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "PAPERSET_BUDGET_API=0", "-s", "PAPERSET_BUDGET_PAGES=0",
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8", "-s", "CONCURRENT_REQUESTS=8"]


def crawl_calls(links: bool, work: Path) -> dict:
    """Calls (and wall time) of one night's window crawl, links on or off."""
    from paperset.crawler.replica.server import ReplicaServer

    with ReplicaServer() as server:
        days = server.index["days"][-7:]
        args = [sys.executable, "-m", "paperset.cli", "crawl", "--base-url", server.base_url, "--out",
                str(work / f"night-{links}.jsonl"), *[a for d in days for a in ("--day", d)], *FAST]
        started = time.monotonic()
        subprocess.run([*args, *(["--links"] if links else [])], check=True, capture_output=True, cwd=ROOT)
        elapsed = time.monotonic() - started
        calls = [p for _, p, _ in server.requests if p != "/robots.txt"]
        papers = {r["paper"]["id"] for d in days for r in server.site.listings["day", d]}
    return {"calls": len(calls), "link_calls": sum(not p.startswith("/api/daily_papers") for p in calls),
            "papers": len(papers), "seconds": round(elapsed, 1)}


def lookups_file(folder: Path, ids: list[str], night: int) -> int:
    """A spool's links file as a complete lookup of each paper at `night` would write it; its links."""
    from paperset.crawler.replica.links import KINDS, LinkWorld
    from paperset.crawler.spiders.links import keep_entries

    world, links = LinkWorld(), 0
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "links.jsonl").open("w", encoding="utf-8") as out:
        for paper_id in ids:
            repos = {kind: world.repos(paper_id, kind, night) for kind in KINDS}
            links += sum(map(len, repos.values()))
            totals = {k: len(v) for k, v in repos.items()}
            items = {k: keep_entries(k, v) for k, v in repos.items()}
            out.write(json.dumps({"paper_id": paper_id, "part": "paper", "totals": totals, "items": items,
                                  "chains": ["collections"]}) + "\n")
            out.write(json.dumps({"paper_id": paper_id, "part": "collections", "last": True,
                                  "items": keep_entries("collections", world.collections(paper_id, night))}) + "\n")
    return links


def table_files(version: Path) -> list[Path]:
    from paperset.packager.links_schema import LINK_TABLES

    return sorted(p for name in LINK_TABLES for p in (version / name).glob("*.parquet"))


def night_bytes(papers: int, per_night: int, work: Path) -> dict:
    """Link tables of a parent of `papers` papers, then one night looking up `per_night` of them."""
    from paperset.packager.links import fold_links

    ids = [f"{2400 + n // 99_999 % 100}.{n % 99_999:05d}" for n in range(papers)]
    start = datetime(2026, 6, 1, tzinfo=UTC)
    lookups_file(work / "spool0", ids, 0)
    parent = work / "parent"
    made = fold_links([work / "spool0"], None, parent, start)
    looked_up_links = lookups_file(work / "spool1", ids[-per_night:], 1)
    figures: dict = {"papers": papers, "parent_link_rows": made.rows}
    before = chunks(table_files(parent))
    for name, spools in (("without_links", []), ("with_links", [work / "spool1"])):
        out = work / name
        shutil.rmtree(out, ignore_errors=True)
        started = time.monotonic()
        fold = fold_links(spools, parent, out, start + timedelta(days=1))
        new, total = new_share(chunks(table_files(out)), before)
        figures[name] = {"rows_changed": sum(fold.changed.values()), "changed_by_table": fold.changed,
                         "table_bytes": total, "new_chunk_bytes": new, "seconds": round(time.monotonic() - started, 1)}
    # What a layout of one row per link per night would add this night, against rows_changed.
    figures["per_observation_layout_rows"] = looked_up_links
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="papers in the parent (comma-separated)")
    args = parser.parse_args()
    from paperset.crawler import settings

    cap = settings.PAPERSET_LINKS_MAX_CALLS
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        off, on = crawl_calls(False, work), crawl_calls(True, work)
        per_paper = on["link_calls"] / on["papers"]
        sizes = [int(s) for s in args.sizes.split(",")]
        nights = {}
        for size in sizes:
            per_night = min(size, int(cap / per_paper))
            nights[str(size)] = night_bytes(size, per_night, work / str(size)) | {
                "looked_up_per_night": per_night, "full_pass_calls": round(size * per_paper),
                "nights_for_full_pass": -(-round(size * per_paper) // cap)}
    rows = [["window night: calls", off["calls"], on["calls"]],
            ["window night: seconds", off["seconds"], on["seconds"]]]
    for size, fig in nights.items():
        for label, key in (("link rows changed", "rows_changed"), ("link table bytes", "table_bytes"),
                           ("new chunk bytes", "new_chunk_bytes")):
            rows.append([f"{size} papers: {label}", fig["without_links"][key], fig["with_links"][key]])
        rows.append([f"{size} papers: rows if one per link a night", 0, fig["per_observation_layout_rows"]])
    print_table(["figure", "links off (baseline)", "links on"], rows)
    window = {"links_off": off, "links_on": on, "calls_per_paper": round(per_paper, 2)}
    path = write_results("links", {"window_night": window, "links_max_calls": cap, "parents": nights})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
