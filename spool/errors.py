"""The spool's exceptions, under one root (paperset/exits.py maps it to exit code 1)."""

from __future__ import annotations


class SpoolError(Exception):
    """A spool that cannot be read or packaged as it is (unknown schema, cut line, unfinished)."""
