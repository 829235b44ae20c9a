"""DedupeConfig: the one frozen set of MinHash parameters every stage (crawl, index, packager) shares.

Defaults, from `bench/dedupe.py` on the real corpus: word 5-gram shingles and 128 permutations
(a signature is 512 bytes), seed 1, and a Jaccard threshold of 0.7: the real near copies in the
corpus sit at 0.78 (a paper and its V2, exact Jaccard) and 0.89, so a threshold of 0.8 would miss the
first. Bands and rows (20 x 6) are chosen for recall: P(candidate) is 0.99 at J = 0.78 and 0.92 at
0.7, where datasketch's balanced choice (14 x 9) gives 0.79 and 0.44; confirmation by the estimated
Jaccard keeps precision.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from typing import Any

from paperset.crawler.errors import SettingError
from paperset.crawler.settings.fields import read_settings, setting

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
    """MinHash LSH parameters, each field a setting of paperset/crawler/settings/fields.py (its type and range are
    declared there): PAPERSET_DEDUPE_SHINGLE_SIZE, _NUM_PERM, _THRESHOLD, _BANDS, _ROWS, _SEED."""

    shingle: str = "word"
    shingle_size: int = setting("PAPERSET_DEDUPE_SHINGLE_SIZE")
    num_perm: int = setting("PAPERSET_DEDUPE_NUM_PERM")
    threshold: float = setting("PAPERSET_DEDUPE_THRESHOLD")
    bands: int | None = setting("PAPERSET_DEDUPE_BANDS")
    rows: int | None = setting("PAPERSET_DEDUPE_ROWS")
    seed: int = setting("PAPERSET_DEDUPE_SEED")
    scheme: str = "affine32"

    def __post_init__(self) -> None:
        if self.shingle != "word":
            raise SettingError(f"only word shingles are supported, not {self.shingle!r}")
        read_settings(type(self), {item.metadata["setting"]: getattr(self, item.name) for item in fields(self)
                                   if "setting" in item.metadata})  # each field's own range
        if (self.bands is None) != (self.rows is None):
            raise SettingError("settings PAPERSET_DEDUPE_BANDS and PAPERSET_DEDUPE_ROWS: give both or neither")
        if self.bands is not None and self.rows is not None and self.bands * self.rows > self.num_perm:
            raise SettingError(f"settings PAPERSET_DEDUPE_BANDS x PAPERSET_DEDUPE_ROWS ({self.bands} x {self.rows}) "
                               f"exceed PAPERSET_DEDUPE_NUM_PERM {self.num_perm}")

    @property
    def params(self) -> tuple[int, int]:
        """(bands, rows): given, or datasketch's optimum for the threshold."""
        if self.bands is not None and self.rows is not None:
            return self.bands, self.rows
        known = KNOWN_OPTIMA.get((self.threshold, self.num_perm))
        return known if known is not None else optimal_params(self.threshold, self.num_perm)

    @classmethod
    def from_settings(cls, settings: Any) -> DedupeConfig:
        """Read PAPERSET_DEDUPE_* from Scrapy settings (or a plain dict: what it lacks keeps the settings
        module's default); a bad value raises SettingError naming it."""
        given = {item.metadata["setting"]: item.default for item in fields(cls) if "setting" in item.metadata}
        given.update({name: settings.get(name) for name in given if settings.get(name) not in (None, "")})
        return cls(**read_settings(cls, given))

    def to_dict(self) -> dict[str, Any]:
        """The configuration as written into every output, with the effective bands and rows."""
        bands, rows = self.params
        return {**asdict(self), "bands": bands, "rows": rows}
