"""Every Scrapy and paperset default in one place; paperset's own settings are prefixed PAPERSET_."""

from __future__ import annotations

BOT_NAME = "paperset"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# --- paperset settings (each listed in the README with its default) -----------------------------
PAPERSET_BASE_URL = "https://huggingface.co"
PAPERSET_CONTACT = "https://github.com/paperset/paperset"

# --- politeness ---------------------------------------------------------------------------------
USER_AGENT = f"paperset/0.1 (+{PAPERSET_CONTACT})"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]

# --- safety and hygiene -------------------------------------------------------------------------
REMOTE_CONTROL_ENABLED = False
TELNETCONSOLE_ENABLED = False
COOKIES_ENABLED = False
LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"

# Normalize before validating, so that validation judges what will be stored (a title of control
# characters only is empty once cleaned).
ITEM_PIPELINES = {
    "crawler.pipelines.normalize.NormalizePipeline": 100,
    "crawler.pipelines.validate.ValidatePipeline": 200,
    "crawler.pipelines.dedupe_exact.ExactDedupePipeline": 300,
}
EXTENSIONS = {
    "crawler.rejects.RejectsLog": 100,
}
# Every dropped entry, whole, with its reason (JSON lines); `paperset crawl --out F` writes F.rejects.jsonl.
PAPERSET_REJECTS = "rejects.jsonl"
PAPERSET_MAX_TITLE_CHARS = 1_000
PAPERSET_MAX_ABSTRACT_CHARS = 20_000
PAPERSET_MAX_FUTURE_DAYS = 2
