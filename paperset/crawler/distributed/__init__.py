"""Many crawl workers through Redis: every key in one module (keys.py), the claiming queue, the outbox,
the worker's extension and pipeline, and the add-on that makes a crawl a worker."""
