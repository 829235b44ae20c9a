"""The settings the application reads around a crawl (its plan, sweep, checks, contact and the workers'
coordinator), as one frozen config read from the run's settings (built once: paperset/app/crawl.py
`crawl_settings`), never `settings.get*` by name."""

from __future__ import annotations

from dataclasses import dataclass

from paperset.crawler.settings.fields import FromSettings, setting


@dataclass(frozen=True)
class AppConfig(FromSettings):
    """Each field a setting of paperset/crawler/settings/fields.py (its type and range declared there)."""

    base_url: str = setting("PAPERSET_BASE_URL")
    contact: str = setting("PAPERSET_CONTACT")
    fetch: str = setting("PAPERSET_FETCH")
    api_page_size: int = setting("PAPERSET_API_PAGE_SIZE")
    all_papers_expected: int = setting("PAPERSET_ALL_PAPERS_EXPECTED")
    details_from_page: bool = setting("PAPERSET_DETAILS_FROM_PAGE")
    links_max_calls: int = setting("PAPERSET_LINKS_MAX_CALLS")
    recrawl_days: int = setting("PAPERSET_RECRAWL_DAYS")
    sweep_size: int = setting("PAPERSET_SWEEP_SIZE")
    dedupe: bool = setting("PAPERSET_DEDUPE_ENABLED")
    flush_every: int = setting("PAPERSET_SPOOL_FLUSH_EVERY")
    part_bytes: int = setting("PAPERSET_SPOOL_PART_BYTES")
    rejects: str = setting("PAPERSET_REJECTS")
