"""The spiders: one per site; they only crawl (URLs, requests, pagination)."""
