"""What one night costs against the size of the dataset it continues (#25): a parent version of 1k, 100k
and 1M papers is synthesized as a version (a spool of that many papers packaged once: papers spread over
60 arXiv months, texts from the bundled slice of the real corpus), then N nights follow, each packaged
in its own process as `paperset package` does (the sizes' nights interleaved): ~40 new papers of the
night's day, the papers of the two weeks before re-seen with moved counters, and one old paper edited.
Per size: median wall time and peak RSS of a night, bytes the night wrote, and the share of the
version's bytes not shared with its parent (files not inherited, paperset/packager/share.py); the 1k night is the
baseline. Writes bench/results/nights.json. No crawl: the dedupe index is not part of these versions
(see bench/README.md)."""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
CORPUS = ROOT / "fixtures" / "corpus" / "api-daily-papers.jsonl.gz"
MONTHS = [f"{21 + m // 12:02d}{m % 12 + 1:02d}" for m in range(60)]  # 2101 ... 2512
FIRST_NIGHT = date(2026, 1, 5)
NEW_A_NIGHT = 40
WINDOW_DAYS = 14


def _texts() -> list[dict]:
    with gzip.open(CORPUS, "rt", encoding="utf-8") as lines:
        return [json.loads(line)["paper"] for line in lines]


def _entry(key: str, paper: dict, day: date, rank: int, upvotes: int, title: str | None = None) -> dict:
    return {"paper_key": key, "paper_id": key, "title": title or paper["title"], "abstract": paper["summary"],
            "authors": [a["name"] for a in paper["authors"]], "published_at": f"{day.isoformat()}T00:00:00+00:00",
            "upvotes": upvotes, "num_comments": rank % 3, "listing_kind": "day", "listing_key": day.isoformat(),
            "rank": rank, "crawled_at": f"{day.isoformat()}T12:00:00+00:00", "fetch_path": "api"}


def parent_rows(count: int) -> Iterator[dict]:
    """The synthesized parent: paper n in month n % 60, listed on a day of that month."""
    texts = _texts()
    for n in range(count):
        month = MONTHS[n % 60]
        day = date(2000 + int(month[:2]), int(month[2:]), 1 + (n // 60) % 28)
        yield _entry(f"{month}.{n // 60:05d}", texts[n % len(texts)], day, 1 + n % 50, n % 97)


def night_rows(size: int, night: int) -> Iterator[dict]:
    """Night `night` (0-based): its new papers, the counters of the two weeks before moving, one edit."""
    texts = _texts()
    today = FIRST_NIGHT + timedelta(days=night)
    for back in range(0, min(night, WINDOW_DAYS) + 1):
        day = today - timedelta(days=back)
        for i in range(NEW_A_NIGHT):
            n = (night - back) * NEW_A_NIGHT + i
            yield _entry(f"2601.{n:05d}", texts[n % len(texts)], day, 1 + i, i + 3 * back)
    old = (night * 7919) % size  # an old paper of the parent, edited
    month = MONTHS[old % 60]
    day = date(2000 + int(month[:2]), int(month[2:]), 1 + (old // 60) % 28)
    yield _entry(f"{month}.{old // 60:05d}", texts[old % len(texts)], day, 1 + old % 50, old % 97,
                 title=f"Revised title {night}")


def make_spool(folder: Path, rows: Iterator[dict], run: str) -> Path:
    from paperset.spool.writer import SpoolWriter

    writer = SpoolWriter(folder, {"run_id": run, "base_url": "bench", "listings": []}, flush_every=10_000)
    for entry in rows:
        writer.write(entry)
    writer.close({})
    return folder


def child(spool: str, root: str, now: str) -> None:
    """One packaging, as `paperset package` runs it, in this process (pyarrow's pandas probe settled
    without pandas, as the CLI's packaging commands do); prints the version and verify time."""
    from paperset.app.process import skip_pandas_probe
    from paperset.crawler.site.kinds import daily_kinds
    from paperset.packager.build import package
    from paperset.packager.manifest import problems

    skip_pandas_probe()
    result = package([Path(spool)], Path(root), "ds", now=datetime.fromisoformat(now), progress=False,
                     daily_kinds=daily_kinds())
    assert result.path, "nothing changed"
    started = time.perf_counter()
    found = problems(Path(result.path))
    assert not found, found
    print(json.dumps({"path": result.path, "papers": result.papers, "verify_s": time.perf_counter() - started}))


def run_child(spool: Path, root: Path, now: datetime) -> dict:
    """Package in a fresh process: wall time, peak RSS (its own ru_maxrss), what it printed."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, __file__, "--child", str(spool), str(root), now.isoformat()],
                               cwd=ROOT, stdout=subprocess.PIPE, text=True)
    out = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    assert status == 0, f"packaging failed ({status})"
    return {**json.loads(out.strip().splitlines()[-1]), "wall_s": wall, "peak_rss_mb": usage.ru_maxrss / 1024}


def version_bytes(version: Path) -> tuple[int, int]:
    """(bytes of every file of the version, bytes of its files not inherited from the parent)."""
    files = json.loads((version / "manifest.json").read_text())["files"]
    total = sum(e["bytes"] for e in files.values()) + (version / "manifest.json").stat().st_size
    new = sum(e["bytes"] for e in files.values() if not e.get("inherited")) + (version / "manifest.json").stat().st_size
    return total, new


def synthesize(size: int, work: Path) -> tuple[Path, float]:
    """The parent of `size` papers, packaged once: its dataset root and how long that took."""
    started = time.perf_counter()
    root = work / f"n{size}"
    run_child(make_spool(work / f"parent-{size}", parent_rows(size), "parent"), root,
              datetime.combine(FIRST_NIGHT - timedelta(days=1), datetime.min.time(), UTC).replace(hour=5))
    return root, time.perf_counter() - started


def one_night(size: int, night: int, root: Path, work: Path) -> dict:
    spool = make_spool(work / f"night-{size}-{night}", night_rows(size, night), f"night-{night}")
    now = datetime.combine(FIRST_NIGHT + timedelta(days=night), datetime.min.time(), UTC).replace(hour=5)
    figures = run_child(spool, root, now)
    total, new = version_bytes(Path(figures["path"]))
    return {"wall_s": round(figures["wall_s"], 2), "peak_rss_mb": round(figures["peak_rss_mb"]),
            "verify_s": round(figures["verify_s"], 3), "papers": figures["papers"],
            "version_bytes": total, "bytes_written": new, "not_shared_pct": round(100 * new / total, 2)}


def all_sizes(sizes: list[int], nights: int, work: Path) -> list[dict]:
    """Every parent first, then night by night each size in turn (interleaved: a change in the machine's
    load falls on every size alike)."""
    roots = {size: synthesize(size, work) for size in sizes}
    per_night: dict[int, list[dict]] = {size: [] for size in sizes}
    for night in range(nights):
        for size in sizes:
            per_night[size].append(one_night(size, night, roots[size][0], work))
    return [{"papers": size, "parent_synthesis_s": round(roots[size][1], 1), "nights": per_night[size],
             **{f"median_{k}": statistics.median(n[k] for n in per_night[size])
                for k in ("wall_s", "peak_rss_mb", "verify_s", "bytes_written", "version_bytes", "not_shared_pct")}}
            for size in sizes]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--nights", type=int, default=5)
    parser.add_argument("--work", type=Path, help="a folder for the datasets (default: a temporary one)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(*args.child)
    from _common import print_table, write_results

    with tempfile.TemporaryDirectory(dir=args.work) as work:
        results = all_sizes([int(s) for s in args.sizes.split(",")], args.nights, Path(work))
    base = results[0]
    for result in results:
        result["vs_baseline"] = {k: round(result[f"median_{k}"] / base[f"median_{k}"], 2)
                                 for k in ("wall_s", "peak_rss_mb", "verify_s")}
    print_table(["papers", "median wall s", "x 1k", "peak RSS MB", "x 1k", "written bytes", "not shared %",
                 "verify s"],
                [[r["papers"], r["median_wall_s"], r["vs_baseline"]["wall_s"], r["median_peak_rss_mb"],
                  r["vs_baseline"]["peak_rss_mb"], r["median_bytes_written"], r["median_not_shared_pct"],
                  r["median_verify_s"]] for r in results])
    print(write_results("nights", {"nights": args.nights, "baseline": f"a night on {base['papers']} papers",
                                   "sizes": results}))
    return None


if __name__ == "__main__":
    main()
