"""Packaging speed and memory: `paperset package` (everything: history, card, manifest, checksums,
verify) on 100k and 1M papers generated from the real corpus, beside two baselines on the same rows:
`pa.Table.from_pylist` + `pq.write_table`, and a streaming `pq.ParquetWriter` in 50k-row batches.
Each variant runs in its own process; peak memory is its ru_maxrss."""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
CORPUS = ROOT / "fixtures" / "corpus" / "api-daily-papers.jsonl.gz"  # the bundled slice of the real corpus
VARIANTS = ("from_pylist", "streaming_writer", "paperset")


def rows(count: int):
    """`count` spool entries: the real corpus, repeated with suffixed ids."""
    with gzip.open(CORPUS, "rt", encoding="utf-8") as lines:
        base = [json.loads(line) for line in lines]
    for n in range(count):
        row = base[n % len(base)]
        paper = row["paper"]
        key = f"{paper['id']}-{n // len(base)}-{row['_rank']}"
        yield {"paper_key": key, "paper_id": key, "title": paper["title"], "abstract": paper["summary"],
               "authors": [a["name"] for a in paper["authors"]], "published_at": paper["publishedAt"],
               "upvotes": paper["upvotes"], "num_comments": row["numComments"], "listing_kind": "day",
               "listing_key": row["_file_date"], "rank": row["_rank"],
               "crawled_at": f"{row['_file_date']}T12:00:00+00:00", "fetch_path": "api"}


def make_spool(folder: Path, count: int) -> None:
    from paperset.spool.writer import SpoolWriter

    writer = SpoolWriter(folder, {"run_id": "bench", "base_url": "bench", "listings": []}, flush_every=10_000)
    for entry in rows(count):
        writer.write(entry)
    writer.close({})


def variant(name: str, spool: Path, count: int, out: Path) -> dict:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from paperset.packager.tables import PAPERS
    from paperset.spool.reader import read_entries

    started = time.perf_counter()
    if name == "paperset":
        from paperset.crawler.site.kinds import daily_kinds
        from paperset.packager.build import package

        result = package([spool], out, "bench", daily_kinds=daily_kinds())
        assert result.changed
        assert result.observations == count
    elif name == "from_pylist":
        entries = list(read_entries(spool))
        table = pa.Table.from_pylist([{k: e.get(k) for k in ("paper_key", "paper_id", "title", "abstract",
                                                              "authors", "upvotes", "num_comments")}
                                      for e in entries])
        pq.write_table(table, out / "papers.parquet", compression="zstd")
    else:
        schema = pa.schema([f for f in PAPERS if f.name in ("paper_key", "paper_id", "title", "abstract",
                                                             "authors", "upvotes", "num_comments")])
        with pq.ParquetWriter(out / "papers.parquet", schema, compression="zstd") as writer:
            batch = []
            for entry in read_entries(spool):
                batch.append({k: entry.get(k) for k in schema.names})
                if len(batch) == 50_000:
                    writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                    batch = []
            if batch:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
    elapsed = time.perf_counter() - started
    figures = {"rows": count, "seconds": round(elapsed, 1), "rows_per_s": round(count / elapsed),
               "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
    if name == "paperset":  # CHANGES.md lists every added paper, however many
        with (Path(result.path) / "CHANGES.md").open(encoding="utf-8") as changes:
            assert sum(line.startswith("- `") for line in changes) == result.added > 0
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help="comma-separated subset of %(default)s (results are written only for all three)")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, spool, count = args.child
        with tempfile.TemporaryDirectory() as out:
            print(json.dumps(variant(name, Path(spool), int(count), Path(out))))
        return
    from _common import print_table, write_results

    variants = [v for v in args.variants.split(",") if v]
    if not set(variants) <= set(VARIANTS):
        parser.error(f"--variants: choose among {', '.join(VARIANTS)}")
    results, table = {}, []
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            spool = Path(tmp) / "spool"
            make_spool(spool, size)
            per = {}
            for name in variants:
                out = subprocess.run([sys.executable, __file__, "--child", name, str(spool), str(size)],
                                     capture_output=True, text=True, check=True)
                per[name] = json.loads(out.stdout.strip().splitlines()[-1])
        stream = per.get("streaming_writer", {}).get("rows_per_s")
        for name, figures in per.items():
            table.append([f"{size:,}", name, figures["rows_per_s"], figures["peak_rss_mb"],
                          f"{figures['rows_per_s'] / stream:.2f}x" if stream else "-"])
        results[str(size)] = per
    print_table(["papers", "variant", "rows/s", "peak RSS MB", "vs streaming"], table)
    if variants != list(VARIANTS):
        return
    path = write_results("package", {"results": results, "note": "paperset includes history, card, chart, "
                                     "manifest, checksums, Croissant and verify; baselines write one table"})
    print(f"results: {path}")


if __name__ == "__main__":
    main()
