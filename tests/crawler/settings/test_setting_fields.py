"""Config objects read their settings with the settings module's defaults, defined there only."""

from __future__ import annotations

from pathlib import Path

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


def test_each_rooms_config_is_read_once_from_the_settings_with_the_module_default_for_one_missing() -> None:
    import dataclasses

    import pytest

    from paperset.app.config import AppConfig
    from paperset.crawler.distributed.addon import WorkerConfig
    from paperset.crawler.errors import SettingError
    from paperset.crawler.fetch.archive.addon import ArchiveConfig
    from paperset.crawler.pipelines.config import PipelineConfig
    from paperset.crawler.spiders.config import SpiderConfig

    # Scrapy's own settings alone (no PAPERSET_ name): every field is the settings module's default.
    for config in (SpiderConfig, PipelineConfig, ArchiveConfig, WorkerConfig, AppConfig):
        assert config.from_settings(Settings()) == config.from_settings(Settings(project_settings_dict())) == config()
    spider = SpiderConfig.from_settings(Settings({"PAPERSET_ALLOWED_HOSTS": "a.example,https://b.example:8443",
                                                  "PAPERSET_API_PAGE_SIZE": "20", "URLLENGTH_LIMIT": 300,
                                                  "PAPERSET_SPOOL": "/s"}))
    assert (spider.allowed_hosts, spider.api_page_size, spider.url_limit, spider.fetch) == (
        ("a.example", "https://b.example:8443"), 20, 300, "auto")  # a list read as Scrapy's getlist reads it
    assert (spider.browser_args, spider.links_file) == ({"maxRounds": 400, "waitMs": 150, "quietMs": 3000},
                                                        Path("/s/links.jsonl"))
    assert ArchiveConfig.from_settings(Settings({"PAPERSET_REPLAY": "a.warc.gz,b.warc.gz"})).replay == (
        "a.warc.gz", "b.warc.gz")
    assert PipelineConfig.from_settings(Settings({"PAPERSET_DEDUPE_STORE": ""})).store == "memory"
    with pytest.raises(dataclasses.FrozenInstanceError):
        spider.fetch = "page"  # type: ignore[misc]
    with pytest.raises(SettingError, match=r"^setting PAPERSET_API_PAGE_SIZE = '500': expected whole number, "
                                           r"1 <= x <= 100$"):
        SpiderConfig.from_settings(Settings({"PAPERSET_API_PAGE_SIZE": "500"}))
    with pytest.raises(SettingError, match=r"^setting PAPERSET_SPOOL_FLUSH_EVERY = 0: expected whole number, 1 <= x$"):
        PipelineConfig.from_settings(Settings({"PAPERSET_SPOOL_FLUSH_EVERY": 0}))
