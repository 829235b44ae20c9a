"""The crawler's exceptions, under one root (paperset/app/exits.py maps them to exit codes): settings it
cannot use (bad input) and a near-dup index it cannot read (a failure)."""

from __future__ import annotations


class CrawlerError(Exception):
    """The crawler cannot start or go on."""


class SettingError(CrawlerError):
    """A setting whose value cannot be used: names it, what it is and what is expected (bad input)."""


class IndexUnreadable(CrawlerError):
    """A near-dup index folder that cannot be read; the message names the file and the way out."""
