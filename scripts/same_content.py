#!/usr/bin/env python3
"""Do two versions hold the same data? Parquet rows compared as sorted sets and the near-dup index as
key -> signature and cluster pairs, crawl times and crawl order left out (they differ between any two
runs). For refactors that must not change the output: `scripts/same_content.py OLD_VERSION NEW_VERSION`."""
import sys, json, pathlib, numpy as np, pyarrow.parquet as pq
a, b = map(pathlib.Path, sys.argv[1:3])
TIMES = {"crawled_at", "first_seen_at", "last_seen_at", "observed_at"}
def rows(path):
    out = []
    for r in pq.read_table(path).to_pylist():
        r = {k: v for k, v in r.items() if k not in TIMES}
        if "listings" in r:
            r["listings"] = sorted(json.dumps({k: v for k, v in d.items() if k != "seen_at"}, sort_keys=True) for d in r["listings"])
        out.append(json.dumps(r, sort_keys=True, default=str))
    return sorted(out)
def index(path):
    x = np.load(path)
    ends = x["key_ends"]; kb = x["key_bytes"].tobytes()
    keys = [kb[s:e].decode() for s, e in zip(np.r_[0, ends[:-1]], ends)]
    sigs = {k: x["signatures"][i].tobytes() for i, k in enumerate(keys)}
    clusters = sorted((keys[h], keys[m]) for h, m in zip(x["cluster_heads"], x["cluster_members"]))
    return sigs, clusters
ok = True
for f in sorted(a.rglob("*.parquet")):
    same = rows(f) == rows(b / f.relative_to(a)); ok &= same
    print(f.relative_to(a), "same" if same else "DIFFERENT")
for f in sorted(a.rglob("*.npz")):
    same = index(f) == index(b / f.relative_to(a)); ok &= same
    print(f.relative_to(a), "same" if same else "DIFFERENT")
sys.exit(0 if ok else 1)
