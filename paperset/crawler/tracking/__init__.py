"""`paperset.crawler.tracking` (docs/architecture.md)."""
