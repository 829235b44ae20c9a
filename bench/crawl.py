"""Crawl throughput: `paperset run` (crawl, clean, dedupe, spool, package, verify) over a large replica
(the 2025 corpus days, weeks and months as API pages of 5 entries: thousands of pages), throttling
and budgets off, beside a bare Scrapy spider that only fetches the same URLs with the same
concurrency, in the same run; and distributed through a real redis-server with 1, 2 and 4 workers.
Pages/s counts the replica's answers; entries/s the entries the crawl found."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
PAPERSET = ROOT / ".venv" / "bin" / "paperset"
CONCURRENCY = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4",
               "-s", "PAPERSET_BUDGET_API=0", "-s", "PAPERSET_BUDGET_PAGES=0"]

BARE = """
import sys, scrapy
from scrapy.crawler import CrawlerProcess

class Bare(scrapy.Spider):
    name = "bare"
    async def start(self):
        for url in open(sys.argv[1]).read().split():
            yield scrapy.Request(url, callback=self.parse, dont_filter=True)
    def parse(self, response):
        return None

process = CrawlerProcess({"LOG_LEVEL": "ERROR", "REMOTE_CONTROL_ENABLED": False, "TELNETCONSOLE_ENABLED": False,
                          "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS": 8,
                          "CONCURRENT_REQUESTS_PER_DOMAIN": 4, "ROBOTSTXT_OBEY": False})
process.crawl(Bare)
process.start()
"""


def listing_args(index: dict) -> list[str]:
    args = ["--range", f"{index['days'][0]}:{index['days'][-1]}"]
    for week in index["weeks"]:
        args += ["--week", week]
    for month in index["months"]:
        args += ["--month", month]
    return args


def timed_run(server, command: list[str]) -> dict:
    server.timed.clear()
    started = time.perf_counter()
    out = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    seconds = time.perf_counter() - started
    if out.returncode != 0:
        raise SystemExit(f"{command[:3]} failed: {out.stderr[-2000:]}")
    pages = sum(1 for _, path, _ in server.timed if path != "/robots.txt")
    return {"seconds": round(seconds, 2), "pages": pages, "stdout": out.stdout}


def paperset_run(server, index: dict, root: Path, extra: list[str]) -> dict:
    command = [str(PAPERSET), "run", "--base-url", server.base_url, *listing_args(index), "--fetch", "api",
               "--out", str(root), "--json", "-s", "PAPERSET_API_PAGE_SIZE=5", *CONCURRENCY, *extra]
    figures = timed_run(server, command)
    outcome = json.loads(figures.pop("stdout").strip().splitlines()[-1])
    assert outcome["verified"] and outcome["crawl"]["finish_reason"] == "finished", outcome
    figures.update(entries=outcome["crawl"]["entries_found"], papers=outcome["papers"],
                   crawl_seconds=outcome["crawl"]["elapsed_s"])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args()
    from _common import print_table, write_results

    from crawler.replica.build import build_large
    from crawler.replica.server import ReplicaServer
    from tests.conftest import redis_server

    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        index = build_large(tmp / "replica", first=date(2025, 1, 6), last=date(2025, 12, 19))
        with ReplicaServer(tmp / "replica") as server:
            results["paperset run"] = paperset_run(server, index, tmp / "single", [])
            urls = [f"{server.base_url}{path}" for _, path, _ in server.timed if path != "/robots.txt"]
            (tmp / "urls.txt").write_text("\n".join(urls))
            bare = timed_run(server, [sys.executable, "-c", BARE, str(tmp / "urls.txt")])
            bare.pop("stdout")
            results["bare scrapy"] = bare
            for n in (int(w) for w in args.workers.split(",")):
                folder = tmp / f"redis-{n}"
                folder.mkdir()
                with redis_server(folder) as url:
                    results[f"{n} worker{'s' if n > 1 else ''}"] = paperset_run(
                        server, index, tmp / f"dist-{n}", ["--redis", url, "--workers", str(n)])
                shutil.rmtree(tmp / f"dist-{n}", ignore_errors=True)
    bare_rate = results["bare scrapy"]["pages"] / results["bare scrapy"]["seconds"]
    rows = []
    for name, figures in results.items():
        figures["pages_per_s"] = round(figures["pages"] / figures["seconds"], 1)
        if "entries" in figures:
            figures["entries_per_s"] = round(figures["entries"] / figures["seconds"], 1)
            figures["crawl_pages_per_s"] = round(figures["pages"] / figures["crawl_seconds"], 1)
        figures["vs_bare"] = round(figures["pages_per_s"] / bare_rate, 2)
        rows.append([name, figures["pages"], figures.get("entries", "-"), figures["seconds"], figures["pages_per_s"],
                     figures.get("entries_per_s", "-"), figures.get("crawl_pages_per_s", "-"),
                     f"{figures['vs_bare']:.2f}x"])
    print_table(["variant", "pages", "entries", "seconds", "pages/s", "entries/s", "crawl-only pages/s",
                 "vs bare"], rows)
    single = results["paperset run"]
    overhead = {"total": round(1 - single["pages_per_s"] / bare_rate, 3),
                "crawl_only": round(1 - single["crawl_pages_per_s"] / bare_rate, 3),
                "packaging_seconds": round(single["seconds"] - single["crawl_seconds"], 2)}
    print(f"overhead of paperset over bare fetching: {overhead['total']:.0%} of the rate end to end, "
          f"{overhead['crawl_only']:.0%} while crawling; packaging and verify {overhead['packaging_seconds']} s")
    path = write_results("crawl", {"replica": {"days": len(index["days"]), "weeks": len(index["weeks"]),
                                               "months": len(index["months"]), "papers": index["papers"]},
                                   "results": results, "overhead": overhead,
                                   "note": "one machine, 2 cores shared by the replica, Redis and the workers"})
    print(f"results: {path}")


if __name__ == "__main__":
    main()
