"""Crawl reporting: the crawl's summary from its stats (for people and `--json`), the live progress bar on a
terminal (an extension, off unless PAPERSET_PROGRESS), and how the crawl's log lines read (the log formatter)."""
