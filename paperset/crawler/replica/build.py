"""Builds the replica's data: the real API corpus items of the replica's days, and its index.

Run `python -m paperset.crawler.replica.build [--corpus PATH] [--out DIR]`; the output is committed and the
build is deterministic (same bytes every run).
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
# A slice of the real API corpus kept in the repository (every 2025 item and the known near copies).
DEFAULT_CORPUS = REPO / "fixtures" / "corpus" / "api-daily-papers.jsonl.gz"
DATA_DIR = Path(__file__).resolve().parent / "data"
# A second replica in the 2026 shapes (issue 28): the real items of 2026-08-10..21 (weeks 2026-W33 and
# W34), every field the site serves; `ReplicaServer(DATA_2026)`, built by `--year 2026`.
CORPUS_2026 = REPO / "fixtures" / "corpus" / "api-daily-papers-2026.jsonl.gz"
DATA_2026 = Path(__file__).resolve().parent / "data2026"
FIRST_2026, LAST_2026 = date(2026, 8, 10), date(2026, 8, 21)
FIRST_DAY, LAST_DAY = date(2025, 2, 3), date(2025, 3, 21)
# Day pages before this date are served with the 2024 props; from it on with the 2025-26 props.
GENERATION_SWITCH = date(2025, 3, 1)
MONTHS = ("2025-02",)
# Real near-duplicate pairs under different ids (site notes), served by search only (`WebSailor`,
# `Seeker`, `Olympiad`), so crawls meet real near copies.
NEAR_COPY_IDS = ("2507.02592", "2509.13305", "2410.06949", "2412.11713", "2512.10739", "2512.10756")


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def read_corpus(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def select(rows: list[dict[str, Any]], first: date = FIRST_DAY, last: date = LAST_DAY) -> list[dict[str, Any]]:
    """The corpus items listed on the replica's days, by day then rank."""
    chosen = [r for r in rows if first.isoformat() <= r["_file_date"] <= last.isoformat()
              or r["paper"]["id"] in NEAR_COPY_IDS]
    return sorted(chosen, key=lambda r: (r["_file_date"], r["_rank"]))


def build_index(rows: list[dict[str, Any]], first: date = FIRST_DAY, last: date = LAST_DAY,
                months: tuple[str, ...] = MONTHS) -> dict[str, Any]:
    days = sorted({r["_file_date"] for r in rows if first.isoformat() <= r["_file_date"] <= last.isoformat()})
    by_week: dict[str, set[str]] = defaultdict(set)
    for day in days:
        by_week[iso_week(date.fromisoformat(day))].add(day)
    # Only weeks whose every weekday lies inside the replica's span are served.
    weeks = [w for w in sorted(by_week)
             if date.fromisocalendar(int(w[:4]), int(w[6:]), 1) >= first
             and date.fromisocalendar(int(w[:4]), int(w[6:]), 5) <= last]
    return {
        "source": "shared/data/hf-papers/api-daily-papers.jsonl.gz",
        "days": days,
        "weeks": weeks,
        "months": list(months),
        "latest_day": days[-1],
        "generation_switch": GENERATION_SWITCH.isoformat(),
        "papers": sum(1 for r in rows if r["_file_date"] in days),
        "search_only": list(NEAR_COPY_IDS),
        "all_days": [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)],
    }


def write(rows: list[dict[str, Any]], out: Path, first: date = FIRST_DAY, last: date = LAST_DAY,
          months: tuple[str, ...] = MONTHS) -> None:
    out.mkdir(parents=True, exist_ok=True)
    payload = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows).encode("utf-8")
    with (out / "corpus.jsonl.gz").open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(payload)
    (out / "index.json").write_text(json.dumps(build_index(rows, first, last, months), indent=1) + "\n",
                                    encoding="utf-8")
    if out not in (DATA_DIR, DATA_2026):  # those two share data/seeds
        shutil.copytree(DATA_DIR / "seeds", out / "seeds", dirs_exist_ok=True)


def build_large(out: Path, corpus: Path = DEFAULT_CORPUS, first: date = date(2024, 5, 27),
                last: date = date(2026, 8, 21)) -> dict[str, Any]:
    """A large replica (for crawl benchmarks and the distributed tests): every corpus day in [first,
    last], their weeks and every month they fully cover; returns its index."""
    rows = select(read_corpus(corpus), first, last)
    months = tuple(sorted({r["_file_date"][:7] for r in rows
                           if first.isoformat()[:7] < r["_file_date"][:7] < last.isoformat()[:7]}))
    write(rows, out, first, last, months)
    return json.loads((out / "index.json").read_text(encoding="utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--year", type=int, choices=(2025, 2026), default=2025,
                        help="2025: the replica (data/); 2026: the 2026-shapes replica (data2026/)")
    args = parser.parse_args()
    if args.year == 2026:
        args.out = args.out or DATA_2026
        rows = select(read_corpus(CORPUS_2026), FIRST_2026, LAST_2026)
        write(rows, args.out, FIRST_2026, LAST_2026, ())
    else:
        args.out = args.out or DATA_DIR
        rows = select(read_corpus(args.corpus))
        write(rows, args.out)
    print(f"replica: {len(rows)} papers over {len({r['_file_date'] for r in rows})} days -> {args.out}")


if __name__ == "__main__":
    main()
