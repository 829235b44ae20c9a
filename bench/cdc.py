"""Cheap daily updates: for a year of daily versions packaged from the corpus slice (each day adds
~50 papers and moves the counters of the last 7 days' papers), the bytes of each version's Parquet
files that its parent's files do not hold, cut into content-defined chunks as the Hub's store does
(FastCDC, 64 KiB average), as a share of the version's Parquet size: the packager's files (content-
defined chunking on) beside the same rows written without it (the baseline)."""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from statistics import mean, median

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
CORPUS = ROOT / "fixtures" / "corpus" / "api-daily-papers.jsonl.gz"  # the bundled slice of the real corpus
START = date(2025, 1, 1)
RECRAWL_DAYS = 7
# The Hub's (Xet) chunking: content-defined, 64 KiB average, 8-128 KiB.
CHUNK = {"min_size": 8 * 1024, "avg_size": 64 * 1024, "max_size": 128 * 1024}


def corpus() -> list[dict]:
    with gzip.open(CORPUS, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def paper_day(n: int, initial: int, per_day: int) -> int:
    """The day (0 = START) paper n was listed: the initial papers before START, then per_day a day."""
    return (n - initial) // per_day


def entry(base: list[dict], n: int, day: int, seen: int) -> dict:
    """Paper n (content of a corpus item, a new id) as crawled on day `seen`: counters grow with age."""
    row = base[n % len(base)]
    paper = row["paper"]
    rng = random.Random(n)
    # arXiv ids grow with time, and a day's list holds a few papers of earlier weeks (in the corpus, 90%
    # of items sort within 31 rows of their listing order): a fifth of the papers sort up to 5 days back.
    lag = rng.randrange(5 * 50) if rng.random() < 0.2 else 0
    key = f"2501.{max(0, n - lag):05d}{n % 1000:03d}"  # unique: lag < 1000
    title, abstract = paper["title"], paper["summary"]
    if n >= len(base):  # a copy: its words shuffled, so that no two papers share a text (as in reality)
        title, abstract = (" ".join(rng.sample(t.split(), len(t.split()))) for t in (title, abstract))
    jitter = int(hashlib.sha256(key.encode()).hexdigest()[:4], 16) % 7
    listed = (START + timedelta(days=day)).isoformat()
    return {"paper_key": key, "paper_id": key, "title": title, "abstract": abstract,
            "authors": [a["name"] for a in paper["authors"]], "published_at": paper["publishedAt"],
            "upvotes": paper["upvotes"] + (seen - day) * (1 + jitter), "num_comments": row["numComments"]
            + (seen - day) // 3, "listing_kind": "day", "listing_key": listed, "rank": n % 50,
            "crawled_at": f"{(START + timedelta(days=seen)).isoformat()}T12:00:00+00:00", "fetch_path": "api"}


def write_spool(folder: Path, entries: list[dict]) -> Path:
    from paperset.spool.writer import SpoolWriter

    writer = SpoolWriter(folder, {"run_id": folder.name, "base_url": "http://127.0.0.1", "listings": []})
    for item in entries:
        writer.write(item)
    writer.close({"paperset/fetch/api": len(entries)})
    return folder


def parquet_files(version: Path) -> list[Path]:
    return sorted([*version.glob("papers/*.parquet"), *version.glob("observations/*.parquet")])


def chunks(files: list[Path]) -> dict[str, int]:
    """Content-defined chunks of the files: hash -> length."""
    from fastcdc import fastcdc

    out: dict[str, int] = {}
    for path in files:
        for chunk in fastcdc(str(path), **CHUNK, fat=False, hf=hashlib.sha256):
            out[chunk.hash] = chunk.length
    return out


def rewrite_without_cdc(version: Path, out: Path) -> list[Path]:
    """The version's rows through the same writer, content-defined chunking off."""
    import pyarrow.parquet as pq

    from paperset.packager.parts import PartWriter
    from paperset.packager.tables import OBSERVATIONS, PAPERS

    shutil.rmtree(out, ignore_errors=True)
    for table, schema in (("papers", PAPERS), ("observations", OBSERVATIONS)):
        writer = PartWriter(out / table, schema, cdc=False)
        for part in sorted((version / table).glob("*.parquet")):
            writer.write(pq.read_table(part, schema=schema))
        writer.close()
    return parquet_files(out)


def new_share(now: dict[str, int], before: dict[str, int]) -> tuple[int, int]:
    """(bytes of chunks the parent lacks, bytes of all chunks) of a version."""
    return sum(n for h, n in now.items() if h not in before), sum(now.values())


def run(days: int, initial: int, per_day: int, work: Path) -> list[dict]:
    from paperset.crawler.site.kinds import daily_kinds
    from paperset.packager.build import package

    base = corpus()
    figures = []
    parent_cdc: dict[str, int] = {}
    parent_plain: dict[str, int] = {}
    for day in range(days + 1):
        first = 0 if day == 0 else initial + (day - 1) * per_day
        last = initial + day * per_day
        entries = [entry(base, n, paper_day(n, initial, per_day), day) for n in range(first, last)]
        if day:  # the recrawl window: the previous days' papers again, with moved counters
            for n in range(max(0, initial + (day - 1 - RECRAWL_DAYS) * per_day), first):
                entries.append(entry(base, n, paper_day(n, initial, per_day), day))
        spool = write_spool(work / "spools" / f"day-{day:03d}", entries)
        started = time.monotonic()
        result = package([spool], work / "out", "ds", recrawl_days=RECRAWL_DAYS,
                         now=datetime.combine(START + timedelta(days=day), datetime.min.time(), UTC)
                         + timedelta(hours=13), daily_kinds=daily_kinds())
        elapsed = time.monotonic() - started
        shutil.rmtree(spool)
        version = Path(result.path)
        cdc = chunks(parquet_files(version))
        plain = chunks(rewrite_without_cdc(version, work / "plain"))
        if day:
            new_cdc, size_cdc = new_share(cdc, parent_cdc)
            new_plain, size_plain = new_share(plain, parent_plain)
            figures.append({"day": day, "version": result.version, "papers": result.papers,
                            "observations": result.observations, "parquet_bytes": size_cdc,
                            "new_bytes": new_cdc, "new_share": new_cdc / size_cdc,
                            "baseline_parquet_bytes": size_plain, "baseline_new_bytes": new_plain,
                            "baseline_new_share": new_plain / size_plain, "package_s": round(elapsed, 2)})
        parent_cdc, parent_plain = cdc, plain
        if day > 1:  # keep the parent only: the year would not fit the disk otherwise
            for old in (work / "out" / "ds").iterdir():
                if old.is_dir() and not old.name.startswith(".") and old.name not in (result.version, result.parent):
                    shutil.rmtree(old)
    return figures


def main() -> None:
    from _common import print_table, write_results

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--initial", type=int, default=2000, help="papers of the first version")
    parser.add_argument("--per-day", type=int, default=50)
    parser.add_argument("--no-write", action="store_true", help="print only (for a short trial)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="paperset-cdc-") as tmp:
        figures = run(args.days, args.initial, args.per_day, Path(tmp))
    step = max(1, len(figures) // 12)
    shown = [f for f in figures if f["day"] % step == 0 or f is figures[-1]]
    print_table(["day", "papers", "observations", "Parquet KiB (CDC)", "new % (CDC)", "Parquet KiB (no CDC)",
                 "new % (no CDC)"],
                [[f["day"], f["papers"], f["observations"], f["parquet_bytes"] / 1024, 100 * f["new_share"],
                  f["baseline_parquet_bytes"] / 1024, 100 * f["baseline_new_share"]] for f in shown])
    late = [f for f in figures if f["papers"] >= 0.9 * figures[-1]["papers"]] or figures
    summary = {
        "days": len(figures), "final_papers": figures[-1]["papers"],
        "new_share_mean": mean(f["new_share"] for f in figures),
        "new_share_median": median(f["new_share"] for f in figures),
        "new_share_max": max(f["new_share"] for f in figures),
        "new_share_mean_last_10pct": mean(f["new_share"] for f in late),
        "baseline_new_share_mean": mean(f["baseline_new_share"] for f in figures),
        "baseline_new_share_median": median(f["baseline_new_share"] for f in figures),
        "baseline_new_share_mean_last_10pct": mean(f["baseline_new_share"] for f in late),
        "new_bytes_total": sum(f["new_bytes"] for f in figures),
        "baseline_new_bytes_total": sum(f["baseline_new_bytes"] for f in figures),
    }
    print()
    for key, value in summary.items():
        print(f"{key:38} {value:.4f}" if isinstance(value, float) else f"{key:38} {value:,}")
    if not args.no_write:
        print(write_results("cdc", {"parameters": {"days": args.days, "initial": args.initial,
                                                   "per_day": args.per_day, "recrawl_days": RECRAWL_DAYS,
                                                   "chunking": CHUNK},
                                    "summary": summary, "per_version": figures}))


if __name__ == "__main__":
    main()
