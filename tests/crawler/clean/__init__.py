"""`tests.crawler.clean` (docs/testing.md)."""
