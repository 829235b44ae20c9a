"""paperset's application layer: the command line, one run (crawl, health gate, package, verify), a
distributed run's coordinator and workers, the plan and the summary. The only part that imports the
crawler, the spool contract and the packager together."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("paperset")
except PackageNotFoundError:  # a checkout that was never installed
    __version__ = "0+unknown"
