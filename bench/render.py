"""Renders dynamic search pages of the replica in Chromium through the crawler (`--fetch browser`) and
reports pages/s and Chromium's memory (PSS of all its processes) after 50 and after all pages, beside
the plain-HTTP fetch of the same pages (which gets no entries: the baseline cost of a page)."""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_table, write_results

from paperset.crawler.replica.server import ReplicaServer

ROOT = Path(__file__).resolve().parents[1]


def descendants(root: int) -> list[int]:
    """The process ids below `root` (its children, theirs, ...), from /proc."""
    children: dict[int, list[int]] = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(proc.name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def chromium_pss_mb(root: int) -> float | None:
    """Proportional set size of the Chromium processes started by process `root`, in MB (shared pages
    counted once); None when it has none (other Chromiums on the machine are not counted)."""
    total, seen = 0, False
    for pid in descendants(root):
        proc = Path("/proc") / str(pid)
        try:
            if b"chrom" not in (proc / "cmdline").read_bytes().split(b"\0")[0]:
                continue
            rollup = (proc / "smaps_rollup").read_text()
        except OSError:
            continue
        match = re.search(r"^Pss:\s+(\d+) kB", rollup, re.M)
        total += int(match.group(1)) if match else 0
        seen = True
    return total / 1024 if seen else None


def queries(server: ReplicaServer, count: int) -> list[str]:
    """Distinct one-word queries taken from the corpus titles, each with at least one result."""
    words: list[str] = []
    for row in server.site.rows:
        for word in re.findall(r"[A-Za-z]{6,}", row["paper"]["title"]):
            if word.lower() not in words:
                words.append(word.lower())
    return words[:count]


# The page budget (90 page loads per 300 s by default) would stall a bench of 200 pages: it is turned off,
# as is AutoThrottle, on both legs.
UNBUDGETED = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "PAPERSET_BUDGET_PAGES=0", "-s", "PAPERSET_BUDGET_API=0"]


def run(server: ReplicaServer, qs: list[str], fetch: str, marks: list[int]) -> dict[str, float | None]:
    """Crawl the searches `qs`; sample Chromium's memory when the replica has served each mark's number of
    search pages in this leg (`server.requests` is a copy: the leg counts from its own start)."""
    first = len(server.timed)
    samples: dict[int, float | None] = {}
    peak = 0.0
    done = threading.Event()
    args = [a for q in qs for a in ("--search", q)]
    started = time.monotonic()
    crawl = subprocess.Popen([str(ROOT / ".venv/bin/paperset"), "crawl", "--base-url", server.base_url,
                              "--fetch", fetch, "--out", "/dev/null", "--json", "-s", "LOG_LEVEL=WARNING",
                              "-s", "PAPERSET_DEDUPE_STORE=memory",
                              "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8", *UNBUDGETED, *args],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def watch() -> None:
        nonlocal peak
        while not done.is_set():
            pages = sum(1 for _, path, _ in server.timed[first:] if path.startswith("/papers?q="))
            due = [mark for mark in marks if mark not in samples and pages >= mark]
            if marks:
                now = chromium_pss_mb(crawl.pid)
                peak = max(peak, now or 0.0)
                for mark in due:
                    samples[mark] = now
            time.sleep(0.1)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    out, err = crawl.communicate()
    elapsed = time.monotonic() - started
    done.set()
    watcher.join()
    # Without a browser the dynamic pages hold no entries: that leg ends incomplete (exit 5), every
    # listing `no_entries`, which is what it measures (the cost of fetching the pages).
    lines = out.decode().strip().splitlines()
    coverage = json.loads(lines[-1]).get("coverage") or [] if lines else []
    plain_and_empty = (not marks and crawl.returncode == 5 and len(coverage) == len(qs)
                       and all(c["reason"] == "no_entries" for c in coverage if c["status"] == "incomplete"))
    if crawl.returncode != 0 and not plain_and_empty:
        raise SystemExit(f"the {fetch} crawl failed (rc {crawl.returncode}): {err.decode()[-2000:]}")
    served = sum(1 for _, path, _ in server.timed[first:] if path.startswith("/papers?q="))
    figures: dict[str, float | None] = {"pages": len(qs), "pages_served": served, "seconds": round(elapsed, 2),
                                        "pages_per_s": round(len(qs) / elapsed, 2)}
    for mark in marks:
        value = samples.get(mark)
        if value is None:
            raise SystemExit(f"no Chromium process of the crawl was found at {mark} pages")
        figures[f"chromium_pss_mb_after_{mark}"] = round(value, 1)
    if marks:
        figures["chromium_pss_mb_peak"] = round(peak, 1)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=200)
    args = parser.parse_args()
    with ReplicaServer(dynamic=True) as server:
        qs = queries(server, args.pages)
        marks = [50, len(qs) - 4]
        plain = run(server, qs, "page", [])
        browser = run(server, qs, "browser", marks)
    print_table(["path", "pages", "seconds", "pages/s", "Chromium PSS MB @50", f"@{marks[1]}", "peak"], [
        ["plain HTTP (baseline, 0 entries)", plain["pages"], plain["seconds"], plain["pages_per_s"], "-", "-",
         "-"],
        ["browser (scroll + load more)", browser["pages"], browser["seconds"], browser["pages_per_s"],
         browser["chromium_pss_mb_after_50"], browser[f"chromium_pss_mb_after_{marks[1]}"],
         browser["chromium_pss_mb_peak"]],
    ])
    path = write_results("render", {
        "baseline_plain_http": plain, "browser": browser,
        "note": "both legs with AutoThrottle and the page/API budgets off (PAPERSET_BUDGET_PAGES=0, "
                "PAPERSET_BUDGET_API=0); memory: PSS of the Chromium processes started by the crawl, sampled "
                "when the replica had served N search pages in that leg, and the peak of samples every 0.1 s"})
    print(f"results: {path}")


if __name__ == "__main__":
    main()
