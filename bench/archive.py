"""The web archive's cost (docs/archive.md): the demo crawl (`paperset demo`'s listings on the replica) run
by `paperset run` with its archive recorded and without (`-s PAPERSET_ARCHIVE=`), rounds interleaved, then
a replay of the recorded archive with the replica stopped. Medians of wall and CPU time; archive size."""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import print_table, write_results

from paperset.crawler.replica.server import ReplicaServer

ROOT = Path(__file__).resolve().parents[1]
SEARCHES = ["pretraining", "pre-trained", "pre-training", "diffusion", "WebSailor", "Seeker", "Olympiad"]
FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "PAPERSET_BUDGET_API=0", "-s", "PAPERSET_BUDGET_PAGES=0"]


def demo_listings(index: dict) -> list[str]:
    args = ["--range", f"{index['days'][0]}:{index['days'][-1]}", "--trending"]
    for week in index["weeks"]:
        args += ["--week", week]
    for month in index["months"]:
        args += ["--month", month]
    for query in SEARCHES:
        args += ["--search", query]
    return args


def timed_run(args: list[str]) -> tuple[float, float, dict]:
    """Wall and CPU seconds of one `paperset run` (a subprocess), and its outcome."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "paperset.cli", "run", *args, "--json"], capture_output=True,
                          text=True, cwd=ROOT, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["outcome"] == "published", done.stderr[-2000:]
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), outcome


def build_cost(archive: Path, passes: int = 5) -> float:
    """Seconds to build every exchange of `archive` again (records and compression, no disk), best of
    `passes`: the recorder's own work, apart from the machine's other load."""
    from datetime import UTC, datetime

    from scrapy.http import Request

    from paperset.crawler.fetch.archive.record import exchange_records
    from paperset.crawler.fetch.archive.recorder import exchange_of
    from paperset.crawler.fetch.archive.replay import ArchiveIndex, load_response

    index = ArchiveIndex([archive])
    pairs = []
    for (_, url, _, rendered), answers in index.answers.items():
        for answer in answers:
            request = Request(url, meta={"playwright": rendered})
            pairs.append((request, load_response(answer, request)[0], rendered))
    best = float("inf")
    for _ in range(passes):
        started = time.perf_counter()
        for request, response, rendered in pairs:
            exchange_records(exchange_of(request, response, datetime.now(UTC), fingerprint="0" * 40,
                                         rendered=rendered))
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    rounds = parser.parse_args().rounds
    figures: dict[str, list[float]] = {f"{side}{what}": [] for side in ("with", "without")
                                       for what in ("", "_cpu", "_crawl")}
    with tempfile.TemporaryDirectory() as tmp, ReplicaServer() as server:
        listings = demo_listings(server.index)
        for n in range(rounds):
            for side, extra in (("with", []), ("without", ["-s", "PAPERSET_ARCHIVE="])):
                wall, cpu, outcome = timed_run([*listings, *FAST, *extra, "--base-url", server.base_url,
                                                "--out", f"{tmp}/{side}{n}"])
                figures[side].append(wall)
                figures[f"{side}_cpu"].append(cpu)
                figures[f"{side}_crawl"].append(outcome["crawl"]["elapsed_s"])
                if side == "with":
                    archive = Path(outcome["archive"][0])
                    meta = json.loads((Path(outcome["crawl"]["run"]) / "spool" / "meta.json").read_text())
        requests = len(server.timed) // (2 * rounds)
        server.stop()
        replay_wall, replay_cpu, replayed = timed_run([*listings, "--from-archive", str(archive), "--out",
                                                       f"{tmp}/replay"])
        size = archive.stat().st_size
        build_s = build_cost(archive)
        stats = meta["stats"]
        result = {
            "rounds": rounds, "requests": requests, "archive_bytes": size,
            "archive_records": stats.get("paperset/archive/records"),
            "bytes_received": stats.get("downloader/response_bytes"),
            "write_s": stats.get("paperset/archive/write_s"), "build_s_best_of_5": build_s,
            "median_wall_s": {k: statistics.median(figures[k]) for k in ("with", "without")},
            "median_cpu_s": {k: statistics.median(figures[f"{k}_cpu"]) for k in ("with", "without")},
            "median_crawl_s": {k: statistics.median(figures[f"{k}_crawl"]) for k in ("with", "without")},
            "replay": {"wall_s": replay_wall, "cpu_s": replay_cpu, "crawl_s": replayed["crawl"]["elapsed_s"],
                       "papers": replayed["papers"]},
        }
    print_table(["", "wall s (median)", "cpu s (median)", "crawl s (median)"],
                [[name, result["median_wall_s"][k], result["median_cpu_s"][k], result["median_crawl_s"][k]]
                 for name, k in (("recorded", "with"), ("not recorded", "without"))]
                + [["replay (site stopped)", replay_wall, replay_cpu, result["replay"]["crawl_s"]]])
    print(f"{requests} requests; archive {size:,} bytes for {result['bytes_received']:,} bytes received; "
          f"{result['archive_records']} exchanges built and written in {result['write_s']:.3f} s of the writer process")
    print(f"building the {result['archive_records']} exchanges alone: {build_s:.3f} s (best of 5), "
          f"{1000 * build_s / result['archive_records']:.2f} ms an exchange")
    print(f"results: {write_results('archive', result)}")


if __name__ == "__main__":
    main()
