"""The politeness settings, read and checked once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from scrapy.settings import BaseSettings

from paperset.crawler import settings as defaults
from paperset.crawler.settings.fields import read_settings, setting, setting_value


@dataclass(frozen=True)
class PolitenessConfig:
    """The politeness settings, read and checked once: budgets (0 = none) per window, backoff, jitter."""

    window_s: float = setting("PAPERSET_BUDGET_WINDOW_S")
    budgets: Mapping[str, int] = field(default_factory=lambda: {"api": defaults.PAPERSET_BUDGET_API,
                                                                "page": defaults.PAPERSET_BUDGET_PAGES})
    backoff_base_s: float = setting("PAPERSET_BACKOFF_BASE_S")
    backoff_max_s: float = setting("PAPERSET_BACKOFF_MAX_S")
    jitter: float = setting("PAPERSET_BACKOFF_JITTER")
    max_wait_s: float = setting("PAPERSET_MAX_WAIT_S")
    retries: int = setting("PAPERSET_THROTTLE_RETRIES")

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> PolitenessConfig:
        """Read from the crawl's settings, which hold the settings module's defaults; each value
        parsed and range-checked from its declaration (SettingError)."""
        budgets = {"api": setting_value(settings, "PAPERSET_BUDGET_API"),
                   "page": setting_value(settings, "PAPERSET_BUDGET_PAGES")}
        return cls(budgets=budgets, **read_settings(cls, settings))

    def duration_s(self, counts: Mapping[str, int]) -> float:
        """The least time `counts` requests of each kind take under the budgets (the slowest kind)."""
        longest = 0.0
        for kind, count in counts.items():
            budget = self.budgets.get(kind, 0)
            if budget and count > budget:
                longest = max(longest, ((count - 1) // budget) * self.window_s)
        return longest
