"""Renders dynamic search pages of the replica in Chromium through the crawler (`--fetch browser`) and
reports pages/s and Chromium's memory (PSS of all its processes) after 50 and after all pages, beside
the plain-HTTP fetch of the same pages (which gets no entries: the baseline cost of a page)."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_table, write_results

from crawler.replica.server import ReplicaServer

ROOT = Path(__file__).resolve().parents[1]


def chromium_pss_mb() -> float:
    """Proportional set size of every Chromium process, in MB (shared pages counted once)."""
    total = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes()
            if b"chrom" not in cmd.split(b"\0")[0]:
                continue
            rollup = (proc / "smaps_rollup").read_text()
        except OSError:
            continue
        match = re.search(r"^Pss:\s+(\d+) kB", rollup, re.M)
        total += int(match.group(1)) if match else 0
    return total / 1024


def queries(server: ReplicaServer, count: int) -> list[str]:
    """Distinct one-word queries taken from the corpus titles, each with at least one result."""
    words: list[str] = []
    for row in server.site.rows:
        for word in re.findall(r"[A-Za-z]{6,}", row["paper"]["title"]):
            if word.lower() not in words:
                words.append(word.lower())
    return words[:count]


def run(server: ReplicaServer, qs: list[str], fetch: str, marks: list[int]) -> dict[str, float]:
    server.requests.clear()
    samples: dict[int, float] = {}
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            pages = sum(1 for _, path, _ in list(server.requests) if path.startswith("/papers?q="))
            for mark in marks:
                if mark not in samples and pages >= mark:
                    samples[mark] = chromium_pss_mb()
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    args = [a for q in qs for a in ("--search", q)]
    started = time.monotonic()
    subprocess.run([str(ROOT / ".venv/bin/paperset"), "crawl", "--base-url", server.base_url, "--fetch", fetch,
                    "--out", "/dev/null", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "LOG_LEVEL=WARNING",
                    "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8", *args], check=True, capture_output=True)
    elapsed = time.monotonic() - started
    done.set()
    watcher.join()
    return {"pages": len(qs), "seconds": round(elapsed, 2), "pages_per_s": round(len(qs) / elapsed, 2),
            **{f"chromium_pss_mb_after_{m}": round(samples.get(m, float("nan")), 1) for m in marks}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=200)
    args = parser.parse_args()
    with ReplicaServer(dynamic=True) as server:
        qs = queries(server, args.pages)
        marks = [50, len(qs) - 4]
        plain = run(server, qs, "page", [])
        browser = run(server, qs, "browser", marks)
    print_table(["path", "pages", "seconds", "pages/s", "Chromium PSS MB @50", f"@{marks[1]}"], [
        ["plain HTTP (baseline, 0 entries)", plain["pages"], plain["seconds"], plain["pages_per_s"], "-", "-"],
        ["browser (scroll + load more)", browser["pages"], browser["seconds"], browser["pages_per_s"],
         browser["chromium_pss_mb_after_50"], browser[f"chromium_pss_mb_after_{marks[1]}"]],
    ])
    path = write_results("render", {"baseline_plain_http": plain, "browser": browser,
                                    "note": "memory sampled when the replica had served N page loads"})
    print(f"results: {path}")


if __name__ == "__main__":
    main()
