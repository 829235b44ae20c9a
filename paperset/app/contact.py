"""Who runs a crawl, as the site sees it: the User-Agent (`paperset/0.1 (+CONTACT)`, with the operator's
PAPERSET_CONTACT, else the project's home if its metadata names one, else no contact at all), and the
warning, once per command, that a crawl of a site not on this machine names no operator."""

from __future__ import annotations

import sys

from scrapy.settings import SETTINGS_PRIORITIES, Settings

from paperset.app.config import AppConfig
from paperset.crawler import settings as defaults
from paperset.crawler.fetch.hosts import is_local

SETTING = "PAPERSET_CONTACT"


def user_agent(contact: str | None, home: str | None) -> str:
    """`paperset/0.1 (+CONTACT)`: the operator's contact, else the project's home (`project_home()`), else
    the bare product token: never a made-up address."""
    reach = (contact or "").strip() or home
    return f"{defaults.USER_AGENT} (+{reach})" if reach else defaults.USER_AGENT


def contact_warning(settings: Settings, base_url: str | None) -> str | None:
    """The warning for a crawl of `base_url` (default: the PAPERSET_BASE_URL setting) that names no
    operator: no PAPERSET_CONTACT and no User-Agent of the operator's own. None when it needs none."""
    config = AppConfig.from_settings(settings)
    base = base_url or config.base_url
    if (config.contact or "").strip() or is_local(base):
        return None
    if (settings.getpriority("USER_AGENT") or 0) > SETTINGS_PRIORITIES["project"]:
        return None
    return (f"warning: crawling {base} with no operator contact: set {SETTING} (environment, or -s "
            f"{SETTING}=...) to a URL or mailto: address where the site's operators can reach you; it goes into "
            "the User-Agent")


def warn_without_contact(command: str, settings: Settings, base_url: str | None) -> None:
    """Print `contact_warning` on stderr, once, when there is one."""
    warning = contact_warning(settings, base_url)
    if warning:
        print(f"paperset {command}: {warning}", file=sys.stderr)
