"""`tests.crawler.settings` (docs/architecture.md)."""
