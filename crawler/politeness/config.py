"""The politeness settings, read and checked once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from scrapy.settings import BaseSettings

# The site's limits for anonymous clients per 5 minutes (500 API calls, 100 page loads) less 10%.
DEFAULT_BUDGETS = {"api": 450, "page": 90}


@dataclass(frozen=True)
class PolitenessConfig:
    """The politeness settings, read and checked once: budgets (0 = none) per window, backoff, jitter."""

    window_s: float = 300.0
    budgets: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_BUDGETS))
    backoff_base_s: float = 2.0
    backoff_max_s: float = 300.0
    jitter: float = 0.1
    max_wait_s: float = 900.0
    retries: int = 8

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> PolitenessConfig:
        config = cls(
            window_s=settings.getfloat("PAPERSET_BUDGET_WINDOW_S", cls.window_s),
            budgets={"api": settings.getint("PAPERSET_BUDGET_API", DEFAULT_BUDGETS["api"]),
                     "page": settings.getint("PAPERSET_BUDGET_PAGES", DEFAULT_BUDGETS["page"])},
            backoff_base_s=settings.getfloat("PAPERSET_BACKOFF_BASE_S", cls.backoff_base_s),
            backoff_max_s=settings.getfloat("PAPERSET_BACKOFF_MAX_S", cls.backoff_max_s),
            jitter=settings.getfloat("PAPERSET_BACKOFF_JITTER", cls.jitter),
            max_wait_s=settings.getfloat("PAPERSET_MAX_WAIT_S", cls.max_wait_s),
            retries=settings.getint("PAPERSET_THROTTLE_RETRIES", cls.retries),
        )
        if config.window_s <= 0 or min(config.budgets.values()) < 0 or config.jitter < 0 or config.retries < 0:
            raise ValueError(f"bad politeness settings: {config}")
        return config

    def duration_s(self, counts: Mapping[str, int]) -> float:
        """The least time `counts` requests of each kind take under the budgets (the slowest kind)."""
        longest = 0.0
        for kind, count in counts.items():
            budget = self.budgets.get(kind, 0)
            if budget and count > budget:
                longest = max(longest, ((count - 1) // budget) * self.window_s)
        return longest
