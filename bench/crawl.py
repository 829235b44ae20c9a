"""Crawl time: `paperset run` (crawl, clean, dedupe, spool, archive, package, verify) beside a lean bare
Scrapy spider that fetches exactly the URLs paperset asked, `json.loads` each API answer or the page's
embedded JSON (the `DailyPapers` element's props) and yields the entries as plain dicts to no pipeline (no
paperset code); same concurrency; interleaved rounds, medians and each round's ratio.

Workloads: `api`, the 2025 daily/weekly/monthly replica (`build_large`, API pages of 5 entries); `page`,
1,000 search listings of ~108 entries each (a replica whose search serves windows of a 456-paper pool),
`--fetch page`; `mixed`, both in one run (`--fetch auto`, the search API closed so searches read their
pages); `fixed`, a 5-page run. Optional: `days` (the 2025 days only, nearly every entry a new paper) and
`distributed` (a run through a real redis-server, CPU seconds per page of coordinator, workers and Redis
beside a single process's). Then start-up (`paperset run` of one listing, start to JSON line;
`paperset verify` alone).

Both sides run unthrottled: paperset with its add-on `PAPERSET_UNTHROTTLED`
(paperset/crawler/fetch/politeness/unthrottled.py: AutoThrottle off, budgets off, `CONCURRENT_REQUESTS=8`,
`CONCURRENT_REQUESTS_PER_DOMAIN=4`), the bare spider with the Scrapy part of the same settings (UNTHROTTLED);
every other setting is the shipped default (robots.txt obeyed by paperset: one more request, not counted as
a page)."""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
# `python -m paperset.cli` of the checkout measured (--code: another checkout, e.g. the code before a change,
# run with this checkout's venv).
CODE = ROOT
PAPERSET = "paperset"
# The unthrottled add-on's file in the checkout measured (one from before it gets its settings one by one).
ADDON = Path("paperset/crawler/fetch/politeness/unthrottled.py")
# `--set NAME=VALUE`: settings of paperset's runs beyond the bench's own (recorded in the results).
EXTRA: dict[str, str] = {}
SEARCHES, SEARCH_HITS, SEARCH_POOL = 1000, 108, 456
MIXED_SEARCHES = 300  # search pages in the mixed workload, beside the API pages of workload "api"

BARE = """
import json
import sys

import scrapy
from scrapy.crawler import CrawlerProcess


class Bare(scrapy.Spider):
    name = "bare"

    async def start(self):
        for url in open(sys.argv[1]).read().split():
            yield scrapy.Request(url, callback=self.parse, dont_filter=True)

    def parse(self, response):
        if "/api/" in response.url:
            items = json.loads(response.text)
        else:
            props = json.loads(response.css('[data-target="DailyPapers"]::attr(data-props)').get())
            items = props.get("searchResults") or props.get("dailyPapers") or []
        yield from items  # plain dicts, to no pipeline

    def closed(self, reason):
        print(self.crawler.stats.get_value("item_scraped_count", 0))


process = CrawlerProcess({"LOG_LEVEL": "ERROR", "REMOTE_CONTROL_ENABLED": False,
                          "TELNETCONSOLE_ENABLED": False, "ROBOTSTXT_OBEY": False, **json.loads(sys.argv[2])})
process.crawl(Bare)
process.start()
"""


def settings_args(settings: dict[str, Any]) -> list[str]:
    return [arg for name, value in settings.items() for arg in ("-s", f"{name}={value}")]


def unthrottled(settings: dict[str, Any] | None = None) -> list[str]:
    """The `-s` arguments of a paperset run with the unthrottled add-on on and `settings` over it (`-s` wins
    over the add-on); a checkout measured by --code that predates the add-on gets its settings one by one."""
    from paperset.crawler.fetch.politeness.unthrottled import UNTHROTTLED

    if (CODE / ADDON).is_file():
        return settings_args({"PAPERSET_UNTHROTTLED": True, **(settings or {})})
    return settings_args({**UNTHROTTLED, **(settings or {})})


def listing_args(index: dict[str, Any], *, weeks_and_months: bool = True) -> list[str]:
    args = ["--range", f"{index['days'][0]}:{index['days'][-1]}"]
    if weeks_and_months:
        for week in index["weeks"]:
            args += ["--week", week]
        for month in index["months"]:
            args += ["--month", month]
    return args


def run(command: list[str], what: str) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds of the process and its children, stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    if command[0] == PAPERSET:
        command = [sys.executable, "-m", "paperset.cli", *command[1:]]
    out = subprocess.run(command, capture_output=True, text=True, cwd=CODE, check=False)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise SystemExit(f"{what} failed ({out.returncode}): {out.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu, out.stdout


def pages_of(server: Any) -> list[str]:
    return [path for _, path, _ in server.timed if path != "/robots.txt"]


def paperset_run(server: Any, root: Path, listings: list[str], extra: dict[str, Any],
                 flags: list[str] | None = None) -> dict[str, Any]:
    server.timed.clear()
    shutil.rmtree(root, ignore_errors=True)
    command = [PAPERSET, "run", "--base-url", server.base_url, *listings, "--out", str(root), "--json",
               *(flags or []), *unthrottled({**extra, **EXTRA})]
    seconds, cpu, stdout = run(command, "paperset run")
    outcome = json.loads(stdout.strip().splitlines()[-1])
    assert outcome.get("verified"), outcome
    assert outcome["crawl"]["finish_reason"] == "finished", outcome
    return {"seconds": seconds, "cpu_s": cpu, "pages": len(pages_of(server)),
            "entries": outcome["crawl"]["entries_found"], "papers": outcome["papers"],
            "crawl_seconds": outcome["crawl"]["elapsed_s"],
            "urls": [server.base_url + p for p in pages_of(server)]}


def bare_run(server: Any, urls: list[str], folder: Path) -> dict[str, Any]:
    server.timed.clear()
    (folder / "urls.txt").write_text("\n".join(urls))
    # A file, not `-c`: Scrapy reads a generator callback's source.
    (folder / "bare.py").write_text(BARE)
    from paperset.crawler.fetch.politeness.unthrottled import UNTHROTTLED

    scrapy_settings = {k: v for k, v in UNTHROTTLED.items() if not k.startswith("PAPERSET_")}
    seconds, cpu, stdout = run([sys.executable, str(folder / "bare.py"), str(folder / "urls.txt"),
                                json.dumps(scrapy_settings)], "bare spider")
    return {"seconds": seconds, "cpu_s": cpu, "pages": len(pages_of(server)),
            "entries": int(stdout.strip().splitlines()[-1])}


def load_average() -> list[float]:
    """The machine's 1, 5 and 15 minute load averages as the run ends (other jobs share the cores)."""
    import os

    return [round(x, 2) for x in os.getloadavg()]


def commit(folder: Path) -> str | None:
    out = subprocess.run(["git", "-C", str(folder), "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True, check=False)
    return out.stdout.strip() or None


def median(figures: list[dict[str, Any]], name: str) -> float:
    return round(statistics.median(f[name] for f in figures), 2)


def workload(name: str, rounds: int, server: Any, folder: Path, paperset: Callable[[Path], dict[str, Any]]
             ) -> dict[str, Any]:
    """Interleaved rounds of paperset and the bare spider (fetching the URLs paperset asked in that round)."""
    ours: list[dict[str, Any]] = []
    bare: list[dict[str, Any]] = []
    for n in range(rounds):
        figures = paperset(folder / f"{name}-{n}")
        ours.append(figures)
        bare.append(bare_run(server, figures.pop("urls"), folder))
        assert bare[-1]["pages"] == figures["pages"], (bare[-1], figures)
        print(f"  {name} round {n + 1}: paperset {figures['seconds']:.1f} s, "
              f"bare {bare[-1]['seconds']:.1f} s", flush=True)
    result = {"pages": ours[0]["pages"], "entries": ours[0]["entries"], "papers": ours[0]["papers"],
              "bare_entries": bare[0]["entries"], "rounds": rounds,
              "paperset_s": median(ours, "seconds"), "paperset_crawl_s": median(ours, "crawl_seconds"),
              "paperset_cpu_s": median(ours, "cpu_s"), "bare_s": median(bare, "seconds"),
              "bare_cpu_s": median(bare, "cpu_s"),
              "all_paperset_s": [round(f["seconds"], 2) for f in ours],
              "all_bare_s": [round(f["seconds"], 2) for f in bare]}
    result["ratio"] = round(result["paperset_s"] / result["bare_s"], 2)
    # Each round's ratios (a round's two runs follow each other, so they share the machine's state of the
    # moment): their median and spread.
    walls = [o["seconds"] / b["seconds"] for o, b in zip(ours, bare, strict=True)]
    cpus = [o["cpu_s"] / b["cpu_s"] for o, b in zip(ours, bare, strict=True)]
    result["all_ratio"] = [round(r, 2) for r in walls]
    result["all_cpu_ratio"] = [round(r, 2) for r in cpus]
    result["round_ratio_median"] = round(statistics.median(walls), 2)
    result["round_cpu_ratio_median"] = round(statistics.median(cpus), 2)
    # CPU seconds of each side's processes: less moved by other load on the machine than wall time.
    result["cpu_ratio"] = round(result["paperset_cpu_s"] / result["bare_cpu_s"], 2)
    result["difference_s"] = round(result["paperset_s"] - result["bare_s"], 2)
    result["entries_per_s"] = round(result["entries"] / result["paperset_s"])
    result["bare_entries_per_s"] = round(result["bare_entries"] / result["bare_s"])
    return result


def search_server(data_dir: Path | None = None, *, search_api: bool = True) -> Any:
    """A replica (the bundled one, or `data_dir`'s) whose search answers query `qNNNN` with SEARCH_HITS
    papers: a window of a SEARCH_POOL-paper pool that starts at a different paper for every query.
    `search_api=False`: the search API answers 404 (pages only), so `--fetch auto` reads search pages."""
    from paperset.crawler.replica.server import ReplicaServer
    from paperset.crawler.replica.site import ReplicaSite

    class SearchSite(ReplicaSite):
        def search(self, query: str) -> list[dict[str, Any]]:
            pool = self.pool
            start = int(query[1:]) * 37 % len(pool)
            window = (pool + pool)[start:start + SEARCH_HITS]
            return [{"title": r["paper"]["title"], "paper": r["paper"], "numComments": r["numComments"]}
                    for r in window]

    server = ReplicaServer(data_dir)
    site = SearchSite(data_dir) if data_dir else SearchSite()
    site.pool = sorted(site.papers.values(), key=lambda r: r["paper"]["id"])[:SEARCH_POOL]  # type: ignore[attr-defined]
    server.site = site
    if not search_api:
        server.add_fault(r"^/api/papers/search", status=404)
    return server


def startup(server: Any, folder: Path, rounds: int, index: dict[str, Any]) -> dict[str, Any]:
    """`paperset run` of one listing (start to its JSON line), `paperset verify` of the snapshot it made."""
    runs, verifies = [], []
    for n in range(rounds):
        root = folder / f"startup-{n}"
        seconds, _, stdout = run([PAPERSET, "run", "--base-url", server.base_url, "--day", index["days"][0],
                                  "--out", str(root), "--json",
                                  # unthrottled at the shipped per-host concurrency, as measured before the add-on
                                  *unthrottled({"CONCURRENT_REQUESTS_PER_DOMAIN": 2})],
                                 "paperset run (one listing)")
        runs.append(seconds)
        snapshot = json.loads(stdout.strip().splitlines()[-1])["path"]
        seconds, _, _ = run([PAPERSET, "verify", snapshot], "paperset verify")
        verifies.append(seconds)
    return {"run_one_listing_s": round(statistics.median(runs), 2),
            "verify_s": round(statistics.median(verifies), 2),
            "all_run_s": [round(s, 2) for s in runs], "all_verify_s": [round(s, 2) for s in verifies]}


def distributed_run(server: Any, folder: Path, listings: list[str], extra: dict[str, Any], workers: int
                    ) -> dict[str, Any]:
    """One distributed run through a fresh redis-server: its figures, Redis's CPU added to the processes'."""
    import redis

    from tests.conftest import redis_server

    sub = folder / f"redis-{workers}"
    sub.mkdir(exist_ok=True)
    with redis_server(sub) as url:
        client = redis.Redis.from_url(url)
        before, calls_before = client.info("cpu"), client.info("commandstats")
        figures = paperset_run(server, folder / f"dist-{workers}", listings, extra,
                               ["--redis", url, "--workers", str(workers)])
        after, calls_after = client.info("cpu"), client.info("commandstats")
    figures.pop("urls")
    # Redis commands per page (a script's inner calls counted too), the busiest first.
    calls = {name.removeprefix("cmdstat_"): stat["calls"] - calls_before.get(name, {}).get("calls", 0)
             for name, stat in calls_after.items()}
    figures["redis_calls_per_page"] = {name: round(count / figures["pages"], 2) for name, count in
                                       sorted(calls.items(), key=lambda kv: -kv[1]) if count}
    figures["redis_cpu_s"] = sum(after[k] - before[k] for k in ("used_cpu_sys", "used_cpu_user"))
    figures["cpu_s"] += figures["redis_cpu_s"]
    return figures


def distributed(server: Any, folder: Path, index: dict[str, Any], workers: list[int], rounds: int
                ) -> dict[str, Any]:
    """CPU seconds per page: one process, then 1..N workers (coordinator, workers and Redis summed), in
    interleaved rounds; each figure the median of its rounds, each ratio the median of the rounds' ratios
    (a round's runs follow each other, so they share the machine's state of the moment)."""
    listings = listing_args(index)
    extra = {"PAPERSET_API_PAGE_SIZE": 5}
    names = ["single process", *(f"{n} worker{'s' if n > 1 else ''}" for n in workers)]
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for n in range(rounds):
        single = paperset_run(server, folder / "dist-single", listings, extra)
        single.pop("urls")
        runs["single process"].append(single)
        for count, name in zip(workers, names[1:], strict=True):
            runs[name].append(distributed_run(server, folder, listings, extra, count))
        for figures in (r[-1] for r in runs.values()):
            figures["cpu_ms_per_page"] = 1000 * figures["cpu_s"] / figures["pages"]
            figures["cpu_vs_single"] = figures["cpu_ms_per_page"] / single["cpu_ms_per_page"]
        print(f"  distributed round {n + 1}: " + ", ".join(
            f"{name} {r[-1]['cpu_ms_per_page']:.2f} CPU ms/page" for name, r in runs.items()), flush=True)
    results: dict[str, Any] = {}
    for name, figures in runs.items():
        last = figures[-1]
        results[name] = {
            "pages": last["pages"], "entries": last["entries"], "papers": last["papers"], "rounds": rounds,
            **{key: median(figures, key) for key in ("seconds", "cpu_s", "crawl_seconds", "cpu_ms_per_page",
                                                     "cpu_vs_single")},
            "all_cpu_ms_per_page": [round(f["cpu_ms_per_page"], 2) for f in figures],
            "all_cpu_vs_single": [round(f["cpu_vs_single"], 2) for f in figures]}
        if "redis_cpu_s" in last:
            results[name]["redis_cpu_s"] = median(figures, "redis_cpu_s")
            results[name]["redis_calls_per_page"] = last["redis_calls_per_page"]
        results[name]["pages_per_s"] = round(last["pages"] / results[name]["seconds"], 1)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout to measure (default: this one)")
    parser.add_argument("--results", default="crawl", help="bench/results/<name>.json (default crawl)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for paperset's runs beyond the bench's (e.g. PAPERSET_ARCHIVE= : no archive)")
    parser.add_argument("--only", default="page,api,mixed,fixed,startup",
                        help="parts to run, comma-separated (also: days, distributed)")
    args = parser.parse_args()
    global CODE
    CODE = args.code.resolve()
    from _common import print_table, write_results

    from paperset.crawler.replica.build import build_large
    from paperset.crawler.replica.server import ReplicaServer

    EXTRA.update(dict(item.split("=", 1) for item in args.set))
    only = set(args.only.split(","))
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        index = build_large(tmp / "replica", first=date(2025, 1, 6), last=date(2025, 12, 19))
        api5 = {"PAPERSET_API_PAGE_SIZE": 5}
        searches = [arg for n in range(SEARCHES) for arg in ("--search", f"q{n:04d}")]
        if "page" in only:
            with search_server() as server:
                results["page: 1,000 search pages of ~108 entries (--fetch page)"] = workload(
                    "page", args.rounds, server, tmp,
                    lambda root: paperset_run(server, root, searches, {}, ["--fetch", "page"]))
        if "mixed" in only:
            with search_server(tmp / "replica", search_api=False) as server:
                mixed = [*listing_args(index), *searches[:2 * MIXED_SEARCHES]]
                results[f"mixed: API pages of 5 and {MIXED_SEARCHES} search pages (--fetch auto)"] = workload(
                    "mixed", args.rounds, server, tmp,
                    lambda root: paperset_run(server, root, mixed, api5, ["--fetch", "auto"]))
        with ReplicaServer(tmp / "replica") as server:
            if "api" in only:
                results["api: 2025 days, weeks, months (API pages of 5)"] = workload(
                    "api", args.rounds, server, tmp,
                    lambda root: paperset_run(server, root, listing_args(index), api5, ["--fetch", "api"]))
            if "days" in only:
                results["days: 2025 days only, nearly every entry a new paper"] = workload(
                    "days", args.rounds, server, tmp,
                    lambda root: paperset_run(server, root, listing_args(index, weeks_and_months=False), api5,
                                              ["--fetch", "api"]))
            if "fixed" in only:
                five = ["--range", f"{index['days'][0]}:{index['days'][4]}"]
                results["fixed: 5 API pages (fixed cost)"] = workload(
                    "five", args.rounds, server, tmp,
                    lambda root: paperset_run(server, root, five, {}, ["--fetch", "api"]))
            figures: dict[str, Any] = {"workloads": results}
            if "startup" in only:
                figures["startup"] = startup(server, tmp, args.rounds, index)
            if "distributed" in only:
                figures["distributed"] = distributed(server, tmp, index, [int(w) for w in args.workers.split(",")],
                                                    args.rounds)
    print_table(["workload", "pages", "entries", "paperset s", "bare s", "ratio", "rounds' ratios", "+s", "CPU s",
                 "bare CPU s", "CPU ratio", "rounds' CPU ratios"],
                [[name, r["pages"], r["entries"], r["paperset_s"], r["bare_s"], f"{r['ratio']:.2f}x",
                  f"{min(r['all_ratio']):.2f}-{max(r['all_ratio']):.2f}", r["difference_s"], r["paperset_cpu_s"],
                  r["bare_cpu_s"], f"{r['cpu_ratio']:.2f}x",
                  f"{min(r['all_cpu_ratio']):.2f}-{max(r['all_cpu_ratio']):.2f}"] for name, r in results.items()])
    if "startup" in figures:
        s = figures["startup"]
        print(f"\nstart-up: paperset run of one listing {s['run_one_listing_s']} s, paperset verify {s['verify_s']} s")
    if "distributed" in figures:
        print()
        print_table(["distributed", "pages", "seconds", "pages/s", "CPU ms/page", "vs one process"],
                    [[name, r["pages"], round(r["seconds"], 2), r["pages_per_s"], r["cpu_ms_per_page"],
                      f"{r['cpu_vs_single']:.2f}x"] for name, r in figures["distributed"].items()])
    from paperset.crawler.fetch.politeness.unthrottled import UNTHROTTLED

    path = write_results(args.results, {"code": str(CODE), "commit": commit(CODE),
        **figures, "turned_off": UNTHROTTLED, "paperset_settings": EXTRA,
        "replica": {"days": len(index["days"]), "weeks": len(index["weeks"]), "months": len(index["months"]),
                    "papers": index["papers"]},
        "load_average": load_average(),
        "note": "one machine, 2 cores shared by the replica server (a thread of this script), Redis and the "
                "crawls; seconds are wall time of the whole command; CPU of the replica server is in neither side"})
    print(f"results: {path}")


if __name__ == "__main__":
    main()
