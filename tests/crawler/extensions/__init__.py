"""`tests.crawler.extensions` (docs/architecture.md)."""
