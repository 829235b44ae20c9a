"""Near-duplicate detection speed and quality: datasketch per-entry, datasketch bulk, and ours, each from
text to LSH query + insert, on the real API corpus and on 100k / 1M entries generated from it with
labelled near copies; precision and recall against exact Jaccard. Each variant runs in its own
process so that its peak memory (ru_maxrss) is its own."""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import resource
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CORPUS = ROOT / "fixtures" / "corpus" / "api-daily-papers.jsonl.gz"  # the bundled slice of the real corpus
BATCH = 512


def real_texts() -> list[str]:
    from crawler.normalize import clean_text

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
    from crawler.normalize import clean_text

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


def run_variant(variant: str, size: int, limit: int | None) -> dict:
    """Runs in a child process: text -> signature -> LSH query + insert for `limit` entries."""
    from datasketch import MinHash, MinHashLSH

    from crawler.dedup.config import DedupeConfig
    from crawler.dedup.index import open_index

    texts, _ = dataset(size)
    texts = texts[:limit] if limit else texts
    config = DedupeConfig()
    bands, rows = config.params
    started = time.perf_counter()
    if variant == "ours":
        index = open_index(config, "memory")
        for start in range(0, len(texts), BATCH):
            index.query_insert_batch([str(i) for i in range(start, min(start + BATCH, len(texts)))],
                                     texts[start:start + BATCH])
    else:
        lsh = MinHashLSH(num_perm=config.num_perm, params=(bands, rows))
        for start in range(0, len(texts), BATCH):
            chunk = texts[start:start + BATCH]
            # datasketch's own hashing of the shingle strings (sha1), as plain datasketch code does.
            shingles = [[" ".join(ws[i:i + 5]).encode() for i in range(max(len(ws) - 4, 1))]
                        for ws in (re.findall(r"\w+", t.lower()) for t in chunk)]
            if variant == "datasketch_bulk":
                sketches = MinHash.bulk(shingles, num_perm=config.num_perm, seed=config.seed)
            else:
                sketches = []
                for doc in shingles:
                    sketch = MinHash(num_perm=config.num_perm, seed=config.seed)
                    for shingle in doc:
                        sketch.update(shingle)
                    sketches.append(sketch)
            for offset, sketch in enumerate(sketches):
                lsh.query(sketch)
                lsh.insert(str(start + offset), sketch, check_duplication=False)
    elapsed = time.perf_counter() - started
    return {"entries": len(texts), "seconds": round(elapsed, 2), "entries_per_s": round(len(texts) / elapsed),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def quality(size: int, sample: int) -> dict:
    """Precision and recall of our index against exact Jaccard of the shingle sets, on a sample."""
    from crawler.dedup.config import DedupeConfig
    from crawler.dedup.index import open_index
    from crawler.dedup.shingles import ShingleHasher

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


def child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="9881,100000,1000000")
    parser.add_argument("--quick", action="store_true", help="sizes 9881 and 20000 only")
    parser.add_argument("--child", nargs=3, metavar=("VARIANT", "SIZE", "LIMIT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        variant, size, limit = args.child
        print(json.dumps(run_variant(variant, int(size), int(limit) or None)))
        return
    from _common import print_table, write_results

    sizes = [9881, 20000] if args.quick else [int(s) for s in args.sizes.split(",")]
    # The per-entry loop is slow: above 20k entries it is measured on the first 20k (rate only).
    caps = {"datasketch_per_entry": 20_000, "datasketch_bulk": 100_000, "ours": 0}
    results: dict[str, dict] = {}
    rows = []
    for size in sizes:
        per_size = {}
        for variant, cap in caps.items():
            limit = cap if cap and size > cap else 0
            figures = child([variant, str(size), str(limit)])
            figures["measured_on"] = figures["entries"]
            figures["extrapolated"] = bool(limit)
            per_size[variant] = figures
        ours = per_size["ours"]["entries_per_s"]
        for variant, figures in per_size.items():
            rows.append([f"{size:,}", variant, figures["measured_on"], figures["entries_per_s"],
                         figures["peak_rss_mb"], f"{ours / figures['entries_per_s']:.2f}x"])
        results[str(size)] = per_size
    print_table(["entries", "variant", "measured on", "entries/s", "peak RSS MB", "ours vs it"], rows)
    q = quality(30_000, 6_000)
    print(f"quality (threshold {0.7}): precision {q['precision']} (within 0.1 of it: {q['precision_within_0.1']}),"
          f" recall {q['recall']}, on {q['sample']} entries with {q['true_near_dups']} true near-duplicates")
    path = write_results("dedupe", {"speed": results, "quality": q,
                                    "notes": "text -> shingles -> MinHash -> LSH query + insert, one core; "
                                             "peak RSS includes the generated texts"})
    print(f"results: {path}")


if __name__ == "__main__":
    main()
