"""Config objects read their settings with the settings module's defaults, defined there only."""

from __future__ import annotations

from scrapy.settings import Settings

from paperset.crawler import settings as project
from paperset.crawler.clean.checks import Limits
from paperset.crawler.fetch.politeness import PolitenessConfig
from tests.conftest import project_settings_dict


def test_config_defaults_are_the_settings_modules_and_overrides_are_read_with_their_type() -> None:
    assert PolitenessConfig.from_settings(Settings(project_settings_dict())) == PolitenessConfig()
    assert PolitenessConfig().window_s == project.PAPERSET_BUDGET_WINDOW_S
    assert Limits() == Limits(project.PAPERSET_MAX_TITLE_CHARS, project.PAPERSET_MAX_ABSTRACT_CHARS,
                              project.PAPERSET_MAX_FUTURE_DAYS)
    config = PolitenessConfig.from_settings(Settings(project_settings_dict(PAPERSET_BUDGET_WINDOW_S="60",
                                                                           PAPERSET_THROTTLE_RETRIES="3")))
    assert (config.window_s, type(config.window_s), config.retries) == (60.0, float, 3)
    limits = Limits.from_settings(Settings(project_settings_dict(PAPERSET_MAX_TITLE_CHARS="12")))
    assert limits == Limits(max_title_chars=12)
