"""`tests.crawler.tracking` (docs/architecture.md)."""
