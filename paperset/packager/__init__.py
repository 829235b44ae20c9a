"""paperset's packager: spools of crawled entries -> versioned, immutable Parquet snapshots with a card.

Usable without Scrapy running. Named `packager`, not the design card's `packaging`: the name was chosen
when the package was top-level, where `packaging` would have hidden the library that pip, pytest and Scrapy
import; inside the `paperset` namespace it would be safe, and is kept to spare every import a rename.
"""
