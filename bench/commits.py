"""paperset against itself: `paperset run` of this checkout beside the same command of another commit
(`--base`, default HEAD~1, checked out into a temporary git worktree), on the same replica, rounds
interleaved (base, this, base, this, ...), medians of wall seconds, CPU seconds (the process and its
children) and the crawl's own seconds. Workloads as in bench/crawl.py (`page`, `api`, `fixed`): what a
change did to paperset alone, without the bare spider's noise in the ratio."""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import crawl as c
from _common import print_table, write_results

ROOT = Path(__file__).resolve().parents[1]


def measure(name: str, rounds: int, codes: dict[str, Path], once: Any) -> dict[str, Any]:
    """Each side's rounds (wall, CPU, crawl seconds) and medians; `once(root)` runs paperset once."""
    runs: dict[str, list[dict[str, float]]] = {side: [] for side in codes}
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(rounds):
            for side, code in codes.items():
                c.CODE = code
                result = once(Path(tmp) / "run")
                runs[side].append({"wall_s": round(result["seconds"], 2), "cpu_s": round(result["cpu_s"], 2),
                                   "crawl_s": result["crawl_seconds"]})
                print(f"  {name} round {n + 1} {side}: {runs[side][-1]}", flush=True)
    medians = {side: {k: statistics.median(r[k] for r in rs) for k in ("wall_s", "cpu_s", "crawl_s")}
               for side, rs in runs.items()}
    return {"rounds": runs, "median": medians,
            "change": {k: round(medians["this"][k] / medians["base"][k] - 1, 3) for k in ("wall_s", "cpu_s")}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", default="HEAD~1", help="the commit to measure against (default HEAD~1)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", default="page,api,fixed")
    args = parser.parse_args()
    base = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", args.base], capture_output=True,
                          text=True, check=True).stdout.strip()
    only = set(args.only.split(","))
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tmp / "base"), base],
                       capture_output=True, check=True)
        codes = {"base": tmp / "base", "this": ROOT}
        try:
            if "page" in only:
                searches = [a for n in range(c.SEARCHES) for a in ("--search", f"q{n:04d}")]
                with c.search_server() as server:
                    results["page"] = measure("page", args.rounds, codes, lambda root: c.paperset_run(
                        server, root, searches, {}, ["--fetch", "page"]))
            from paperset.crawler.replica.build import build_large
            from paperset.crawler.replica.server import ReplicaServer

            index = build_large(tmp / "replica", first=date(2025, 1, 6), last=date(2025, 12, 19))
            with ReplicaServer(tmp / "replica") as server:
                if "api" in only:
                    results["api"] = measure("api", args.rounds, codes, lambda root: c.paperset_run(
                        server, root, c.listing_args(index), {"PAPERSET_API_PAGE_SIZE": 5}, ["--fetch", "api"]))
                if "fixed" in only:
                    five = ["--range", f"{index['days'][0]}:{index['days'][4]}"]
                    results["fixed"] = measure("fixed", args.rounds, codes, lambda root: c.paperset_run(
                        server, root, five, {}, ["--fetch", "api"]))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tmp / "base")],
                           capture_output=True, check=False)
    print_table(["workload", "base wall s", "this wall s", "wall change", "base CPU s", "this CPU s", "CPU change"],
                [[name, r["median"]["base"]["wall_s"], r["median"]["this"]["wall_s"], f"{r['change']['wall_s']:+.1%}",
                  r["median"]["base"]["cpu_s"], r["median"]["this"]["cpu_s"], f"{r['change']['cpu_s']:+.1%}"]
                 for name, r in results.items()])
    path = write_results("commits", {"base": base, "this": c.commit(ROOT), "workloads": results,
                                     "load_average": c.load_average()})
    print(f"results: {path}")


if __name__ == "__main__":
    main()
