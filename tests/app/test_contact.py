"""PAPERSET_CONTACT, from `-s` or the environment, reaches the User-Agent the crawl sends; without it the
project's home (from the installed metadata) if there is one, else no contact: never a made-up address.
A crawl of a site not on this machine without a contact is warned about."""

from __future__ import annotations

from email.message import Message

import pytest
from scrapy.settings import Settings

from paperset.app.contact import contact_warning, is_local, user_agent
from paperset.app.crawl import CrawlJob, crawl_settings, project_settings
from paperset.crawler import settings as defaults
from paperset.spool.identity import project_home


def test_default_user_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PAPERSET_CONTACT", raising=False)
    # paperset has no public home: its metadata names none, so the User-Agent names no contact at all.
    assert project_home() is None
    assert crawl_settings(CrawlJob()).get("USER_AGENT") == defaults.USER_AGENT == "paperset/0.1"
    assert defaults.PAPERSET_CONTACT == ""


def metadata(*fields: tuple[str, str]) -> Message:
    meta = Message()
    for name, value in fields:
        meta[name] = value
    return meta


def test_the_home_is_read_from_the_metadata() -> None:
    assert project_home(metadata(("Name", "paperset"), ("Project-URL", "Documentation, https://docs.example.org"),
                                 ("Project-URL", "Homepage, https://example.org/paperset"))) == \
        "https://example.org/paperset"
    assert project_home(metadata(("Project-URL", "Source Code, https://x.example/src"),
                                 ("Project-URL", "Repository, https://x.example/repo"))) == "https://x.example/repo"
    assert project_home(metadata(("Home-page", "https://old.example"))) == "https://old.example"
    assert project_home(metadata(("Project-URL", "Home-Page, https://h.example"))) == "https://h.example"
    for nothing in (metadata(), metadata(("Project-URL", "Documentation, https://docs.example.org")),
                    metadata(("Project-URL", "Homepage, javascript:alert(1)")), metadata(("Home-page", "UNKNOWN"))):
        assert project_home(nothing) is None
    assert user_agent("", "https://example.org/paperset") == "paperset/0.1 (+https://example.org/paperset)"
    assert user_agent("mailto:ops@example.org", "https://example.org/paperset") == \
        "paperset/0.1 (+mailto:ops@example.org)"
    assert user_agent("  ", None) == "paperset/0.1"


def test_which_crawls_are_warned_about(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PAPERSET_CONTACT", raising=False)
    assert [u for u in ("http://127.0.0.1:8123", "http://localhost", "http://[::1]:80", "http://api.localhost",
                        "http://127.3.2.1", "https://huggingface.co", "http://10.0.0.5", "http://vm:1",
                        "http://127.0.0.1.example.org") if is_local(u)] == [
        "http://127.0.0.1:8123", "http://localhost", "http://[::1]:80", "http://api.localhost", "http://127.3.2.1"]

    def settings(**values: str) -> Settings:
        made = project_settings()
        made.setdict(values, priority="cmdline")
        return made

    warning = ("warning: crawling https://huggingface.co with no operator contact: set PAPERSET_CONTACT (environment, "
               "or -s PAPERSET_CONTACT=...) to a URL or mailto: address where the site's operators can reach you; it "
               "goes into the User-Agent")
    assert contact_warning(settings(), None) == warning  # the default base URL: the real site
    assert contact_warning(settings(), "https://huggingface.co") == warning
    assert contact_warning(settings(), "http://127.0.0.1:8123") is None
    assert contact_warning(settings(PAPERSET_BASE_URL="http://localhost:9"), None) is None
    assert contact_warning(settings(PAPERSET_CONTACT="mailto:ops@example.org"), None) is None
    assert contact_warning(settings(USER_AGENT="mybot/1 (+mailto:ops@example.org)"), None) is None


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
