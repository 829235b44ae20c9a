"""`paperset.crawler.extensions` (docs/architecture.md)."""
