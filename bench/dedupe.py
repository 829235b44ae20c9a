"""Near-duplicate detection speed, memory and quality: ours, datasketch bulk and rensa, each from text to
LSH query + insert, on the bundled slice of the real API corpus (3,942 texts) and on 100k / 1M entries
generated from it (typos, mirrors, truncations, reordered sentences, and new papers made of sentences
of several real abstracts); precision and recall against exact Jaccard. Each variant and size runs in
its own process, reading its texts from a file as it goes, so that its peak memory is its index's."""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CORPUS = ROOT / "fixtures" / "corpus" / "api-daily-papers.jsonl.gz"  # the bundled slice of the real corpus
BATCH = 512
SLICE = 3942  # the texts of the bundled corpus slice
CACHE = Path(tempfile.gettempdir()) / "paperset-bench"  # generated datasets, made once and reused
VARIANTS = ("ours", "datasketch_bulk", "rensa")


def real_texts() -> list[str]:
    from paperset.crawler.clean.normalize import clean_text

    with gzip.open(CORPUS, "rt", encoding="utf-8") as lines:
        rows = [json.loads(line)["paper"] for line in lines]
    return [f"{clean_text(p['title'])} {clean_text(p['summary']) or ''}" for p in rows]


def typo(words: list[str], rng: random.Random) -> list[str]:
    out = list(words)
    for _ in range(max(1, len(out) // 60)):
        i = rng.randrange(len(out))
        w = out[i]
        if len(w) > 3:
            j = rng.randrange(len(w) - 1)
            out[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:]
    return out


def near_copy(text: str, rng: random.Random) -> tuple[str, str]:
    """A labelled near copy of a real text (the noise kinds a crawl meets)."""
    kind = rng.choice(["typo", "mirror", "noise", "truncate", "reorder"])
    words = text.split()
    if kind == "typo":
        return kind, " ".join(typo(words, rng))
    if kind == "mirror":
        return kind, text.replace("huggingface.co", "huggingface.host") + " See hf-mirror.com."
    if kind == "noise":
        return kind, "  " + text.replace(" and ", " &amp; ").replace(". ", ".\n\n ")
    if kind == "truncate":
        return kind, " ".join(words[: max(5, int(len(words) * 0.9))])
    sentences = re.split(r"(?<=\.) ", text)
    if len(sentences) > 3:
        i = rng.randrange(1, len(sentences) - 1)
        sentences[i], sentences[i + 1] = sentences[i + 1], sentences[i]
    return kind, " ".join(sentences)


def unrelated(texts: list[str], rng: random.Random) -> str:
    """A new 'paper': sentences drawn from several different real abstracts."""
    picks = [rng.choice(texts) for _ in range(4)]
    sentences = [rng.choice(re.split(r"(?<=\.) ", t)) for t in picks for _ in range(2)]
    return " ".join(sentences)


def dataset(size: int, seed: int = 7) -> tuple[list[str], list[str]]:
    """(texts, labels): the real corpus first, then one near copy per ~4 entries and unrelated papers."""
    from paperset.crawler.clean.normalize import clean_text

    base = real_texts()
    rng = random.Random(seed)
    texts, labels = list(base[:size]), ["real"] * min(size, len(base))
    while len(texts) < size:
        if rng.random() < 0.25:
            kind, text = near_copy(rng.choice(base), rng)
            texts.append(clean_text(text) or "")
            labels.append(f"copy:{kind}")
        else:
            texts.append(unrelated(base, rng))
            labels.append("unrelated")
    return texts, labels


def dataset_file(size: int) -> Path:
    """The generated texts of `size`, one JSON string a line, made once and reused by every variant."""
    path = CACHE / f"dedupe-{size}.jsonl"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        texts, _ = dataset(size)
        tmp = path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as out:
            out.writelines(json.dumps(t) + "\n" for t in texts)
        tmp.replace(path)
    return path


def batches(path: Path) -> Iterator[list[str]]:
    """The texts of a dataset file, BATCH at a time (streamed: the texts are not all in memory)."""
    with path.open(encoding="utf-8") as lines:
        while chunk := [json.loads(line) for _, line in zip(range(BATCH), lines, strict=False)]:
            yield chunk


def word_shingles(texts: list[str]) -> list[list[bytes]]:
    """Word 5-gram shingles as bytes, the way plain datasketch or rensa code makes them."""
    return [[" ".join(ws[i:i + 5]).encode() for i in range(max(len(ws) - 4, 1))]
            for ws in (re.findall(r"\w+", t.lower()) for t in texts)]


def current_rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * resource.getpagesize() / 2**20


def variant_step(variant: str) -> Callable[[int, list[str]], None]:
    """The work of one batch (text -> shingles -> MinHash -> LSH query + insert) for `variant`."""
    from paperset.crawler.dedup.config import DedupeConfig

    config = DedupeConfig()
    bands, rows = config.params
    if variant == "ours":
        from paperset.crawler.dedup.index import open_index

        index = open_index(config, "memory")
        return lambda start, texts: index.query_insert_batch([str(start + i) for i in range(len(texts))], texts)
    if variant == "rensa":
        from rensa import RMinHash, RMinHashLSH

        # rensa needs num_perm divisible by the bands: the 120 slots our 20 x 6 bands use (less work).
        rensa_perm = bands * rows
        rensa_lsh = RMinHashLSH(config.threshold, rensa_perm, bands)

        def rensa_step(start: int, texts: list[str]) -> None:
            for offset, doc in enumerate(word_shingles(texts)):
                sketch = RMinHash(rensa_perm, config.seed)
                sketch.update(doc)
                rensa_lsh.query(sketch)
                rensa_lsh.insert(start + offset, sketch)
        return rensa_step
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(num_perm=config.num_perm, params=(bands, rows))

    def datasketch_step(start: int, texts: list[str]) -> None:
        # datasketch's own hashing of the shingle strings (sha1), as plain datasketch code does.
        for offset, sketch in enumerate(MinHash.bulk(word_shingles(texts), num_perm=config.num_perm,
                                                     seed=config.seed)):
            lsh.query(sketch)
            lsh.insert(str(start + offset), sketch, check_duplication=False)
    return datasketch_step


def run_variant(variant: str, path: Path) -> dict:
    """Runs in a child process: every batch of the dataset file through `variant`; only the work is timed
    (reading the file is not), on the process's CPU clock (one core) and on the wall clock."""
    step = variant_step(variant)
    before = current_rss_mb()
    entries, cpu, wall = 0, 0.0, 0.0
    for texts in batches(path):
        started_cpu, started = time.process_time(), time.perf_counter()
        step(entries, texts)
        cpu += time.process_time() - started_cpu
        wall += time.perf_counter() - started
        entries += len(texts)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"entries": entries, "cpu_seconds": round(cpu, 2), "wall_seconds": round(wall, 2),
            "entries_per_s": round(entries / cpu), "entries_per_wall_s": round(entries / wall),
            "peak_rss_mb": round(peak), "index_mb": round(peak - before)}


def quality(size: int, sample: int) -> dict:
    """Precision and recall of our index against exact Jaccard of the shingle sets, on a sample."""
    from paperset.crawler.dedup.config import DedupeConfig
    from paperset.crawler.dedup.index import open_index
    from paperset.crawler.dedup.shingles import ShingleHasher

    texts, labels = dataset(size)
    rng = random.Random(11)
    picked = sorted(rng.sample(range(len(texts)), min(sample, len(texts))))
    config = DedupeConfig()
    shingler = ShingleHasher(config.shingle_size)
    sets = [set(shingler.one(texts[i]).tolist()) for i in picked]
    by_shingle: dict[int, list[int]] = defaultdict(list)
    truth: dict[int, float] = {}
    for n, shingles in enumerate(sets):
        overlap: dict[int, int] = defaultdict(int)
        for value in shingles:
            for other in by_shingle[value]:
                overlap[other] += 1
            by_shingle[value].append(n)
        best = max((c / len(shingles | sets[o]) for o, c in overlap.items()), default=0.0)
        truth[n] = best
    index = open_index(config, "memory")
    found = index.query_insert_batch([str(n) for n in range(len(picked))], [texts[i] for i in picked])
    flagged = {n for n, match in enumerate(found) if match is not None}
    true = {n for n, best in truth.items() if best >= config.threshold}
    near_miss = {n for n, best in truth.items() if best >= config.threshold - 0.1}
    return {"sample": len(picked), "true_near_dups": len(true), "flagged": len(flagged),
            "precision": round(len(flagged & true) / max(len(flagged), 1), 4),
            "precision_within_0.1": round(len(flagged & near_miss) / max(len(flagged), 1), 4),
            "recall": round(len(flagged & true) / max(len(true), 1), 4),
            "labels_in_sample": dict(sorted({lab: sum(1 for i in picked if labels[i] == lab)
                                             for lab in set(labels)}.items()))}


def child(args: list[str], timeout: float | None = None) -> dict:
    """One variant on one size in a fresh process (its peak RSS is its own); past `timeout` seconds of wall
    time it is stopped and reported as not measured."""
    try:
        out = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True,
                             check=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"not_measured": f"stopped after {timeout:.0f} s of wall time (the machine was shared)"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default=f"{SLICE},100000,1000000")
    parser.add_argument("--quick", action="store_true", help=f"sizes {SLICE} and 20000 only")
    parser.add_argument("--jobs", type=int, default=1, help="children run side by side (default 1)")
    parser.add_argument("--timeout", type=float, default=None, help="seconds of wall time a child may take")
    parser.add_argument("--child", nargs=2, metavar=("VARIANT", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_variant(args.child[0], Path(args.child[1]))))
        return
    from _common import print_table, write_results

    sizes = [SLICE, 20000] if args.quick else [int(s) for s in args.sizes.split(",")]
    paths = {size: dataset_file(size) for size in sizes}
    # Children may run side by side (--jobs): each is its own process and its rate is per CPU second.
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        runs = {(size, variant): pool.submit(child, [variant, str(paths[size])], args.timeout)
                for size in sizes for variant in VARIANTS}
        q = quality(30_000, 6_000)
        results: dict[str, dict] = {str(size): {variant: runs[size, variant].result() for variant in VARIANTS}
                                    for size in sizes}
    rows = []
    for size in sizes:
        per_size = results[str(size)]
        ours = per_size["ours"].get("entries_per_s")
        for variant, figures in per_size.items():
            if "not_measured" in figures:
                rows.append([f"{size:,}", variant, "-", "-", "-", "-", "-", figures["not_measured"]])
                continue
            rows.append([f"{size:,}", variant, figures["entries"], figures["entries_per_s"],
                         figures["entries_per_wall_s"], figures["peak_rss_mb"], figures["index_mb"],
                         f"{ours / figures['entries_per_s']:.2f}x" if ours else "-"])
    print_table(["entries", "variant", "measured on", "entries/s (CPU)", "entries/s (wall)", "peak RSS MB",
                 "index MB", "ours vs it"], rows)
    print(f"quality (threshold {0.7}): precision {q['precision']} (within 0.1 of it: {q['precision_within_0.1']}),"
          f" recall {q['recall']}, on {q['sample']} entries with {q['true_near_dups']} true near-duplicates")
    path = write_results("dedupe", {
        "speed": results, "quality": q,
        "notes": "text -> shingles -> MinHash -> LSH query + insert, batches of 512, each variant and size in a "
                 "fresh process reading its texts from a file as it goes; every figure measured on every "
                 "entry (nothing extrapolated). entries/s is per CPU second of the process (one core: the "
                 f"machine is shared; {args.jobs} children at a time), wall-clock rates beside it. "
                 "index MB = peak RSS minus the RSS before the first entry. ours also confirms candidates by "
                 "estimated Jaccard and keeps clusters; "
                 "datasketch and rensa only query and insert. rensa: RMinHash per text + RMinHashLSH with the "
                 f"same 20 x 6 bands over 120 permutations (it needs num_perm divisible by the bands; rensa "
                 f"{rensa_version()})"})
    print(f"results: {path}")


def rensa_version() -> str:
    from importlib.metadata import version

    return version("rensa")


if __name__ == "__main__":
    main()
