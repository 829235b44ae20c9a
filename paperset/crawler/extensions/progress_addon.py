"""The live progress bar as a Scrapy add-on (listed in ADDONS): with `PAPERSET_PROGRESS` on (the CLI turns it
on for a terminal, without --json), the LiveProgress extension (paperset/crawler/extensions/progress.py) is
added to EXTENSIONS; off, it is not listed at all (its module, and tqdm, never imported). This one file
shows all it changes."""

from __future__ import annotations

from dataclasses import dataclass

from scrapy.settings import BaseSettings

from paperset.crawler.settings.fields import FromSettings, setting

LIVE_PROGRESS = "paperset.crawler.extensions.progress.LiveProgress"
# After paperset's other extensions (the rate gate it reads is PolitenessGate's, at 60).
ORDER = 600


@dataclass(frozen=True)
class ProgressConfig(FromSettings):
    """`PAPERSET_PROGRESS`: whether the bar is shown."""

    progress: bool = setting("PAPERSET_PROGRESS")


class ProgressBar:
    """Settings read: `PAPERSET_PROGRESS` (on: the live progress bar)."""

    def update_settings(self, settings: BaseSettings) -> None:
        if ProgressConfig.from_settings(settings).progress:
            settings["EXTENSIONS"][LIVE_PROGRESS] = ORDER
