"""PAPERSET_CONTACT, from `-s` or the environment, reaches the User-Agent the crawl sends."""

from __future__ import annotations

import pytest

from crawler import settings as defaults
from paperset.crawl import CrawlJob, crawl_settings


def test_default_user_agent() -> None:
    assert crawl_settings(CrawlJob()).get("USER_AGENT") == defaults.USER_AGENT


def test_contact_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERSET_CONTACT", "mailto:ops@example.org")
    settings = crawl_settings(CrawlJob())
    assert settings.get("PAPERSET_CONTACT") == "mailto:ops@example.org"
    assert settings.get("USER_AGENT") == "paperset/0.1 (+mailto:ops@example.org)"


def test_set_on_the_command_line_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERSET_CONTACT", "mailto:ops@example.org")
    settings = crawl_settings(CrawlJob(settings={"PAPERSET_CONTACT": "https://example.org/bot"}))
    assert settings.get("USER_AGENT") == "paperset/0.1 (+https://example.org/bot)"
    explicit = crawl_settings(CrawlJob(settings={"USER_AGENT": "my-agent/1"}))
    assert explicit.get("USER_AGENT") == "my-agent/1"
