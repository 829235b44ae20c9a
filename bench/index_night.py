"""A night's near-dup index cost against the size of the index (#25): open the index, judge ~60 new entries
(near copies of indexed papers among them), save. `old` is the code of commit OLD_COMMIT (one
`near-dup-index.npz`, loaded whole, saved whole; extracted with `git archive`), `new` the segments of this
tree (memory-mapped, one segment written a night; stamped as a run's parent proofs stamp them) and
`new, unstamped` the same without stamps (every byte CRC-checked first: a folder copied by hand or pulled
from the Hub). Indexes of 1k, 100k and 1M entries are synthesized (real signatures for the bundled corpus
slice, random ones beyond it), not extrapolated; the new layout holds them as one big segment plus 7
nights' segments. Each night runs in a fresh process on a hard-linked copy of the index: wall time, peak
RSS (os.wait4), bytes written (the process's write() bytes, /proc/self/io `wchar`) and the bytes of the
files the night left that its parent did not have."""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from itertools import pairwise
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
OLD_COMMIT = "546755e"  # the last commit whose folder index is one near-dup-index.npz
SIZES = (1_000, 100_000, 1_000_000)
NEW_ENTRIES = 60
NIGHTS_BEFORE = 7  # segments of earlier nights in the new layout (a week; compaction is past 16)
ROUNDS = 3
VARIANTS = ("old", "new", "new, unstamped")


def base_arrays(size: int) -> tuple[list[str], object]:
    """Keys and signatures of an index of `size`: the corpus slice's real signatures, random beyond."""
    import numpy as np
    from dedupe import real_texts

    from paperset.crawler.dedup.config import DedupeConfig
    from paperset.crawler.dedup.minhash import BatchMinHasher
    from paperset.crawler.dedup.shingles import ShingleHasher

    config = DedupeConfig()
    texts = real_texts()[:size]
    real = BatchMinHasher(config.num_perm, config.seed).signatures(*ShingleHasher(config.shingle_size).batch(texts))
    rng = np.random.default_rng(5)
    rest = rng.integers(0, 2**32, size=(size - len(real), config.num_perm), dtype=np.uint32)
    return [f"k{n}" for n in range(size)], np.concatenate([real, rest])


def sorted_run(signatures, start: int):
    import numpy as np

    from paperset.crawler.dedup.bands import band_hashes
    from paperset.crawler.dedup.config import DedupeConfig

    bands, rows = DedupeConfig().params
    hashes = np.concatenate([band_hashes(signatures[s:s + 65536], bands, rows).ravel()
                             for s in range(0, len(signatures), 65536)])
    ids = np.repeat(np.arange(start, start + len(signatures), dtype=np.uint32), bands)
    order = np.argsort(hashes, kind="stable")
    return hashes[order], ids[order]


def build_new(folder: Path, size: int) -> None:
    from paperset.crawler.dedup.config import DedupeConfig
    from paperset.crawler.dedup.disk import stamp_segment
    from paperset.crawler.dedup.folder import new_arrays
    from paperset.crawler.dedup.segments import write_segment

    keys, signatures = base_arrays(size)
    cuts = [0] + [size - n * NEW_ENTRIES for n in range(NIGHTS_BEFORE, -1, -1)]
    for serial, (start, end) in enumerate(pairwise(cuts), start=1):
        rows = signatures[start:end]
        data = new_arrays(start, keys[start:end], [rows], [sorted_run(rows, start)], {})
        stamp_segment(folder, write_segment(folder, DedupeConfig().to_dict(), data, serial))


def build_old(folder: Path, size: int) -> None:
    """(run with the old tree first on sys.path) the same entries as one near-dup-index.npz."""
    from crawler.dedup.config import DedupeConfig  # the old tree's top-level package
    from crawler.dedup.store import IndexState, save_state

    keys, signatures = base_arrays(size)
    save_state(folder, IndexState(DedupeConfig().to_dict(), keys, [signatures], {}, [sorted_run(signatures, 0)]))


def night_texts() -> list[str]:
    """The night's entries: 20 near copies of indexed papers (of the first 1,000) and 40 new ones."""
    from dedupe import near_copy, real_texts, unrelated

    rng = random.Random(11)
    texts = real_texts()
    copies = [near_copy(texts[rng.randrange(1000)], rng)[1] for _ in range(NEW_ENTRIES // 3)]
    return copies + [unrelated(texts, rng) for _ in range(NEW_ENTRIES - len(copies))]


def wchar() -> int:
    return int(dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())["wchar"])


def night(folder: Path, variant: str) -> dict:
    """One night in this (fresh) process: check, open, judge in batches of 12 (a listing page's), save."""
    import importlib

    code = "crawler" if variant == "old" else "paperset.crawler"  # the old tree's package, or this checkout's
    DedupeConfig = importlib.import_module(f"{code}.dedup.config").DedupeConfig
    index_module = importlib.import_module(f"{code}.dedup.index")
    check_store, open_index = index_module.check_store, index_module.open_index

    texts = night_texts()
    config = DedupeConfig()
    written, started = wchar(), time.perf_counter()
    check_store(config, str(folder))  # as `paperset run` and `crawl` do before a crawl
    index = open_index(config, str(folder))
    found = []
    for start in range(0, len(texts), 12):
        keys = [f"night{n}" for n in range(start, start + 12)]
        matches = index.query_insert_batch(keys, texts[start:start + 12])
        found += [None if m is None else [m.key, m.similarity] for m in matches]
    index.close()
    return {"wall_s": time.perf_counter() - started, "written_bytes": wchar() - written, "answers": found,
            "entries_after": len(index)}


def inodes(folder: Path) -> set[int]:
    return {f.stat().st_ino for f in folder.rglob("*") if f.is_file()}


def measure(base: Path, variant: str, old_tree: Path) -> dict:
    """One night of `variant` on a hard-linked copy of `base`, in a fresh process."""
    copy = base.with_name(base.name + "-night")
    shutil.rmtree(copy, ignore_errors=True)
    subprocess.run(["cp", "-al", str(base), str(copy)], check=True)
    if variant == "new, unstamped":
        (copy / ".checked.json").unlink()
    before = inodes(copy)
    env = {**os.environ, "PYTHONPATH": str(old_tree if variant == "old" else ROOT)}
    with tempfile.TemporaryFile("w+") as out:
        process = subprocess.Popen([sys.executable, __file__, "--night", str(copy), variant], stdout=out, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        out.seek(0)
        assert status == 0, out.read()
        figures = json.loads(out.read().strip().splitlines()[-1])
    figures["peak_rss_mb"] = usage.ru_maxrss / 1024
    figures["new_file_bytes"] = sum(f.stat().st_size for f in copy.rglob("*") if f.is_file()
                                    and f.stat().st_ino not in before and not f.name.startswith("."))
    figures["index_bytes"] = sum(f.stat().st_size for f in copy.rglob("*")
                                 if f.is_file() and not f.name.startswith("."))
    shutil.rmtree(copy)
    return figures


def build(work: Path, size: int, old_tree: Path) -> dict[str, Path]:
    bases = {"old": work / f"old-{size}", "new": work / f"new-{size}"}
    for path in bases.values():
        shutil.rmtree(path, ignore_errors=True)
    for variant, path in bases.items():  # in children: this process stays small, as the nights fork from it
        env = {**os.environ, "PYTHONPATH": str(old_tree if variant == "old" else ROOT)}
        subprocess.run([sys.executable, __file__, "--build", variant, str(path), str(size)], check=True, env=env)
    return bases


def run(work: Path, sizes: tuple[int, ...], rounds: int) -> list[dict]:
    old_tree = work / "old-code"
    if not old_tree.exists():
        old_tree.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", OLD_COMMIT, "crawler"], capture_output=True,
                                 check=True)
        subprocess.run(["tar", "-x", "-C", str(old_tree)], input=archive.stdout, check=True)
    rows = []
    for size in sizes:
        bases = build(work, size, old_tree)
        nights: dict[str, list[dict]] = {v: [] for v in VARIANTS}
        for _ in range(rounds):  # interleaved: the variants meet the same machine load
            for variant in VARIANTS:
                nights[variant].append(measure(bases["old" if variant == "old" else "new"], variant, old_tree))
        same = all(n["answers"] == nights["old"][0]["answers"] for runs in nights.values() for n in runs)
        for variant, runs in nights.items():
            rows.append({"entries": size, "variant": variant, "rounds": rounds, "same_answers_as_old": same,
                         "matches": sum(a is not None for a in runs[0]["answers"]),
                         **{k: median(r[k] for r in runs) for k in ("wall_s", "peak_rss_mb", "written_bytes")},
                         "wall_s_all": [round(r["wall_s"], 3) for r in runs],
                         "new_file_bytes": runs[0]["new_file_bytes"], "index_bytes": runs[0]["index_bytes"]})
        for path in bases.values():
            shutil.rmtree(path)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "paperset-index-night"))
    parser.add_argument("--night", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--build", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.night:
        print(json.dumps(night(Path(args.night[0]), args.night[1])))
        return
    if args.build:
        (build_old if args.build[0] == "old" else build_new)(Path(args.build[1]), int(args.build[2]))
        return
    from _common import print_table, write_results

    rows = run(Path(args.work), tuple(int(s) for s in args.sizes.split(",")), args.rounds)
    print_table(["entries", "variant", "wall s", "peak RSS MB", "bytes written", "new file bytes", "index bytes",
                 "same answers"],
                [[f"{r['entries']:,}", r["variant"], r["wall_s"], r["peak_rss_mb"], f"{r['written_bytes']:,}",
                  f"{r['new_file_bytes']:,}", f"{r['index_bytes']:,}", r["same_answers_as_old"]] for r in rows])
    print(write_results("index_night", {"old_commit": OLD_COMMIT, "new_entries": NEW_ENTRIES,
                                        "nights_before": NIGHTS_BEFORE, "rows": rows}))


if __name__ == "__main__":
    main()
