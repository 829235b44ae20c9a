"""`paperset.app` (docs/architecture.md)."""
