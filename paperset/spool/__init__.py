"""The contract between the crawl and the packager: the entry's fields and Arrow schema (schema.py), the
spool writer and readers, the ledger of done requests, and `redact`. It imports neither side; both
import it.

A spool is a folder: `meta.json` (`schema` = paperset.spool/1, run id, times, base URL, settings, dedupe
configuration, stats; `finished_at` is null until the crawl closes it), `entries/part-NNNNN.jsonl`,
`ledger.jsonl` and the crawl's `rejects.jsonl`.
"""
