"""paperset's packager: spools of crawled entries -> versioned, immutable Parquet snapshots with a card.

Usable without Scrapy running. Named `packager`, not `packaging`: a top-level `packaging` package
would hide the `packaging` library that pip, pytest and Scrapy import.
"""
