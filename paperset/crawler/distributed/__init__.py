"""`paperset.crawler.distributed` (docs/architecture.md)."""
