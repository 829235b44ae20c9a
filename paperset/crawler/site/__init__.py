"""Extraction: pure functions from a response (or text) to items; no engine needed to test them."""
