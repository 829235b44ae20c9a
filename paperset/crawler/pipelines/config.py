"""The item pipelines' settings, read once by each step's `from_crawler`: which steps are on, the
near-dup index's store, and the spool's folder, flushes and parts."""

from __future__ import annotations

from dataclasses import dataclass

from paperset.crawler.settings.fields import FromSettings, setting


@dataclass(frozen=True)
class PipelineConfig(FromSettings):
    """Each field a setting of paperset/crawler/settings/fields.py (its type and range declared there); the
    MinHash parameters are DedupeConfig's (paperset/crawler/dedup/config.py), the bounds of validation
    `Limits`' (paperset/crawler/clean/checks.py)."""

    normalize: bool = setting("PAPERSET_NORMALIZE_ENABLED")
    validate: bool = setting("PAPERSET_VALIDATE_ENABLED")
    dedupe: bool = setting("PAPERSET_DEDUPE_ENABLED")
    dedupe_store: str = setting("PAPERSET_DEDUPE_STORE")
    dedupe_max_segments: int = setting("PAPERSET_DEDUPE_MAX_SEGMENTS")
    spool: str = setting("PAPERSET_SPOOL")
    flush_every: int = setting("PAPERSET_SPOOL_FLUSH_EVERY")
    part_bytes: int = setting("PAPERSET_SPOOL_PART_BYTES")
    resume: bool = setting("PAPERSET_RESUME")

    @property
    def store(self) -> str:
        """Where the near-dup index lives (empty: in memory)."""
        return self.dedupe_store or "memory"
