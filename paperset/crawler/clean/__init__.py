"""`paperset.crawler.clean` (docs/architecture.md)."""
