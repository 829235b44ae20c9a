"""DedupeConfig: the one frozen set of MinHash parameters every stage (crawl, index, packager) shares.

Defaults, from `bench/dedupe.py` on the real corpus: word 5-gram shingles and 128 permutations
(a signature is 512 bytes), seed 1, and a Jaccard threshold of 0.7: the real near copies in the
corpus sit at 0.78 (a paper and its V2, exact Jaccard) and 0.89, so a threshold of 0.8 would miss the
first. Bands and rows (20 x 6) are chosen for recall: P(candidate) is 0.99 at J = 0.78 and 0.92 at
0.7, where datasketch's balanced choice (14 x 9) gives 0.79 and 0.44; confirmation by the estimated
Jaccard keeps precision.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

from crawler import settings as defaults

# Candidates are confirmed by estimated Jaccard, so a false positive of the bands only costs a comparison
# while a false negative loses a near copy: weigh misses 9 to 1.
WEIGHTS = (0.1, 0.9)


# datasketch's optimum for the shipped defaults (threshold, num_perm) with WEIGHTS, so that a run with
# them imports neither datasketch nor the scipy it integrates with (about a second of start-up); a test
# holds it equal to what `optimal_params` computes.
KNOWN_OPTIMA = {(0.7, 128): (20, 6)}


@lru_cache(maxsize=8)
def optimal_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) minimising datasketch's weighted error for the threshold (its public optimiser)."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, weights=WEIGHTS)
    return lsh.b, lsh.r


@dataclass(frozen=True)
class DedupeConfig:
    """MinHash LSH parameters. Settings: PAPERSET_DEDUPE_SHINGLE_SIZE, PAPERSET_DEDUPE_NUM_PERM,
    PAPERSET_DEDUPE_THRESHOLD, PAPERSET_DEDUPE_BANDS, PAPERSET_DEDUPE_ROWS, PAPERSET_DEDUPE_SEED."""

    shingle: str = "word"
    shingle_size: int = defaults.PAPERSET_DEDUPE_SHINGLE_SIZE
    num_perm: int = defaults.PAPERSET_DEDUPE_NUM_PERM
    threshold: float = defaults.PAPERSET_DEDUPE_THRESHOLD
    bands: int | None = defaults.PAPERSET_DEDUPE_BANDS
    rows: int | None = defaults.PAPERSET_DEDUPE_ROWS
    seed: int = defaults.PAPERSET_DEDUPE_SEED
    scheme: str = "affine32"

    def __post_init__(self) -> None:
        if self.shingle != "word":
            raise ValueError(f"only word shingles are supported, not {self.shingle!r}")
        if not 1 <= self.shingle_size <= 20:
            raise ValueError(f"shingle size must be 1..20, not {self.shingle_size}")
        if not 16 <= self.num_perm <= 1024:
            raise ValueError(f"num_perm must be 16..1024, not {self.num_perm}")
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"threshold must be between 0 and 1, not {self.threshold}")
        if (self.bands is None) != (self.rows is None):
            raise ValueError("give both bands and rows, or neither")
        if self.bands is not None and self.rows is not None and self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands x rows ({self.bands} x {self.rows}) exceeds num_perm {self.num_perm}")
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, not {self.seed}")

    @property
    def params(self) -> tuple[int, int]:
        """(bands, rows): given, or datasketch's optimum for the threshold."""
        if self.bands is not None and self.rows is not None:
            return self.bands, self.rows
        known = KNOWN_OPTIMA.get((self.threshold, self.num_perm))
        return known if known is not None else optimal_params(self.threshold, self.num_perm)

    @classmethod
    def from_settings(cls, settings: Any) -> DedupeConfig:
        """Read PAPERSET_DEDUPE_* from Scrapy settings (or a plain dict: what it lacks keeps crawler/settings.py's
        default); bad values raise ValueError."""
        get = settings.get
        def number(name: str, kind: type, default: Any) -> Any:
            value = get(f"PAPERSET_DEDUPE_{name}")
            if value in (None, ""):
                return default
            try:
                return kind(value)
            except (TypeError, ValueError):
                raise ValueError(f"PAPERSET_DEDUPE_{name} must be a {kind.__name__}, not {value!r}") from None
        return cls(
            shingle_size=number("SHINGLE_SIZE", int, cls.shingle_size),
            num_perm=number("NUM_PERM", int, cls.num_perm),
            threshold=number("THRESHOLD", float, cls.threshold),
            bands=number("BANDS", int, cls.bands),
            rows=number("ROWS", int, cls.rows),
            seed=number("SEED", int, cls.seed),
        )

    def to_dict(self) -> dict[str, Any]:
        """The configuration as written into every output, with the effective bands and rows."""
        bands, rows = self.params
        return {**asdict(self), "bands": bands, "rows": rows}
