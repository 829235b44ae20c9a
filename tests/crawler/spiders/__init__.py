"""`tests.crawler.spiders` (docs/architecture.md)."""
