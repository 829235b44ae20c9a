"""`tests.crawler.fetch` (docs/architecture.md)."""
