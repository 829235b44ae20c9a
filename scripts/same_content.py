#!/usr/bin/env python3
"""Do two versions hold the same data? Parquet rows compared as sorted sets and the near-dup index as
key -> signature and cluster pairs, crawl times and crawl order left out (they differ between any two
runs). For refactors that must not change the output: `scripts/same_content.py OLD_VERSION NEW_VERSION`;
exit 0 when every file is the same, 1 otherwise."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

# Columns holding crawl times: they differ between any two runs of the same code.
TIMES = {"crawled_at", "first_seen_at", "last_seen_at", "observed_at"}


def rows(path: Path) -> list[str]:
    """The table's rows, times left out and listings sorted, as sorted JSON strings."""
    out = []
    for row in pq.read_table(path).to_pylist():
        row = {k: v for k, v in row.items() if k not in TIMES}
        if "listings" in row:
            row["listings"] = sorted(json.dumps({k: v for k, v in d.items() if k != "seen_at"}, sort_keys=True)
                                     for d in row["listings"])
        out.append(json.dumps(row, sort_keys=True, default=str))
    return sorted(out)


def index(path: Path) -> tuple[dict[str, bytes], list[tuple[str, str]]]:
    """The near-dup index file as key -> signature bytes and sorted (head, member) cluster pairs."""
    data = np.load(path)
    ends = data["key_ends"]
    key_bytes = data["key_bytes"].tobytes()
    keys = [key_bytes[start:end].decode() for start, end in zip(np.r_[0, ends[:-1]], ends, strict=True)]
    signatures = {key: data["signatures"][i].tobytes() for i, key in enumerate(keys)}
    clusters = sorted((keys[h], keys[m]) for h, m in zip(data["cluster_heads"], data["cluster_members"], strict=True))
    return signatures, clusters


def main(old: Path, new: Path) -> int:
    """Print each Parquet and index file of `old` as same or DIFFERENT in `new`; 0 when all are the same."""
    ok = True
    for pattern, read in (("*.parquet", rows), ("*.npz", index)):
        for path in sorted(old.rglob(pattern)):
            same = read(path) == read(new / path.relative_to(old))
            ok &= same
            print(path.relative_to(old), "same" if same else "DIFFERENT")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
