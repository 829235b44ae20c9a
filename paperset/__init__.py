"""paperset: research-paper listings crawled into clean, versioned Parquet datasets. One namespace, five
parts importing one way (docs/architecture.md): `cli` (the command line) over `app` (one run, workers, the
plan, the outcome, the exit codes) over `crawler` (Scrapy) and `packager` (no Scrapy), which meet only
through `spool` (the contract). This module holds the installed version only."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("paperset")
except PackageNotFoundError:  # a checkout that was never installed
    __version__ = "0+unknown"
