"""`paperset.crawler.fetch` (docs/architecture.md)."""
