"""Only the site asked for: the base URL's checks (http or https, a host), its credentials kept out of
URLs, and the guard that refuses every request to another host (redirects included)."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest

logger = logging.getLogger(__name__)

SCHEMES = ("http", "https")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def check_base_url(url: str) -> str:
    """The base URL if it is an http(s) URL with a host; ValueError (a one-line reason) otherwise."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise ValueError(f"not a URL: {url.split('@')[-1]!r} ({exc})") from None
    if parts.scheme.lower() not in SCHEMES:
        raise ValueError(f"the base URL must be http:// or https://, not {parts.scheme or 'no scheme'}: "
                         f"{url.split('@')[-1]!r}")
    if not parts.hostname:
        raise ValueError(f"the base URL has no host: {url.split('@')[-1]!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"the base URL takes no query or fragment: {url.split('@')[-1]!r}")
    return url.strip()


def split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """(the URL without `user:password@`, user, password)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None, None
    netloc = parts.hostname or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc)), parts.username, parts.password


def netloc(url: str) -> str:
    """`host:port` of a URL, lower case, with the scheme's default port made explicit."""
    parts = urlsplit(url)
    port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower(), 0)
    return f"{(parts.hostname or '').lower()}:{port}"


def allowed_netlocs(base_url: str, mirrors: Iterable[str] = ()) -> frozenset[str]:
    """The base URL's host and port, and the configured mirrors (`PAPERSET_ALLOWED_HOSTS`: URLs or
    `host[:port]`, https assumed)."""
    allowed = {netloc(base_url)}
    for mirror in mirrors:
        mirror = mirror.strip()
        if mirror:
            allowed.add(netloc(mirror if "://" in mirror else f"https://{mirror}"))
    return frozenset(allowed)


def on_site(url: str, allowed: frozenset[str]) -> bool:
    """Whether a URL is on one of the allowed hosts (http or https only)."""
    return urlsplit(url).scheme.lower() in SCHEMES and netloc(url) in allowed


class OnlySiteMiddleware:
    """Downloader middleware: refuses (IgnoreRequest, before robots.txt is asked) every request whose
    host is not the spider's base URL host or a configured mirror, so a redirect to another host is
    never followed. Counts `paperset/offsite/refused`. Reads the spider's `allowed_netlocs`
    (from `PAPERSET_BASE_URL` or `base_url`, and `PAPERSET_ALLOWED_HOSTS`); a `data:` URL goes to no host."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> OnlySiteMiddleware:
        return cls(crawler)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        allowed = getattr(self.crawler.spider, "allowed_netlocs", None)
        # A `data:` URL reaches no host (`scrapy check`'s contract request, paperset/crawler/site/contracts.py).
        if allowed is None or request.url.startswith("data:") or on_site(request.url, allowed):
            return
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("paperset/offsite/refused")
        logger.warning("refused a request to another host: %s", urlsplit(request.url).netloc.split("@")[-1])
        raise IgnoreRequest(f"offsite: {urlsplit(request.url).hostname} is not the site asked for")


def is_local(base_url: str) -> bool:
    """Whether the base URL's host, as written (not resolved), is this machine: `localhost`,
    `*.localhost` or a loopback address (the replica, a test server)."""
    host = (urlsplit(base_url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
