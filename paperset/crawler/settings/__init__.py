"""Every Scrapy and paperset default in one place; paperset's own settings are prefixed PAPERSET_."""

from __future__ import annotations

BOT_NAME = "paperset"
SPIDER_MODULES = ["paperset.crawler.spiders"]
NEWSPIDER_MODULE = "paperset.crawler.spiders"

# --- the site ----------------------------------------------------------------------------------
# The site to crawl (`--base-url` wins): http or https with a host; only its host is ever contacted.
PAPERSET_BASE_URL = "https://huggingface.co"
# Who runs the crawler: a URL or mailto: where the site's operators reach you, put into the User-Agent
# (also from the environment variable of that name). Empty: the project's home if its installed metadata
# names one ([project.urls]), else none; a crawl of a site not on this machine then warns.
PAPERSET_CONTACT = ""

# --- politeness ---------------------------------------------------------------------------------
# Identify, obey robots.txt, few requests at a time, and slow down when the site does.
USER_AGENT = "paperset/0.1"  # the contact is added by paperset.app.contact
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
# Each attempt of a request, headers and whole body, ends after DOWNLOAD_TIMEOUT seconds; one that failed is
# asked up to RETRY_TIMES more times, except a body that trickled past the timeout after its headers: its
# listing's path ends at once (auto reads the page, else the listing is incomplete), and, as any failure after
# the headers came, it does not count towards PAPERSET_UNREACHABLE_AFTER.
DOWNLOAD_TIMEOUT = 30
RETRY_TIMES = 3
# 429 and 503 are waited out by paperset.crawler.fetch.politeness (Retry-After, RateLimit headers, backoff with jitter).
RETRY_HTTP_CODES = [500, 502, 504, 522, 524, 408]
DOWNLOADER_MIDDLEWARES = {
    "paperset.crawler.fetch.hosts.OnlySiteMiddleware": 50,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "paperset.crawler.fetch.politeness.middleware.RobotsTxtMiddleware": 100,
    "paperset.crawler.fetch.politeness.middleware.RetryAfterMiddleware": 560,
}
# `scrapy check`: the fixture cases are the spider's contract (paperset/crawler/site/contracts.py, docs/testing.md).
SPIDER_CONTRACTS = {"paperset.crawler.site.contracts.FixtureCasesContract": 10}
# Hosts besides the base URL's that requests may go to (the site's known mirrors; URLs or host[:port],
# comma-separated); a redirect anywhere else is not followed.
PAPERSET_ALLOWED_HOSTS: list[str] = []
# A crawl stops as `site_unreachable` after connection failures (no response headers) of this many different
# requests in a row, no answer between (a retry is the same request); once the site has answered, only when
# both the API and the pages fail (auto).
PAPERSET_UNREACHABLE_AFTER = 4
# Until a host has answered once, a request to it waits at most this long (seconds; 0: DOWNLOAD_TIMEOUT).
PAPERSET_FIRST_CONTACT_TIMEOUT_S = 5.0
# Request budgets: the window (seconds), then the API calls and the page loads (pages, robots.txt,
# browser navigations) allowed per window, from the site's published limits for anonymous clients (500
# and 100 per 5 minutes) with a 10% margin; 0 turns a budget off.
PAPERSET_BUDGET_WINDOW_S = 300
PAPERSET_BUDGET_API = 450
PAPERSET_BUDGET_PAGES = 90
# Waiting out 429/503: Retry-After first, then the RateLimit reset, else BASE * 2^(n-1) seconds for the
# n-th in a row up to MAX, each lengthened by up to JITTER (a fraction); a wait longer than MAX_WAIT
# stops the crawl (rate_limited: nothing published, the next run resumes); one request is asked again
# at most THROTTLE_RETRIES times.
PAPERSET_BACKOFF_BASE_S = 2.0
PAPERSET_BACKOFF_MAX_S = 300.0
PAPERSET_BACKOFF_JITTER = 0.1
PAPERSET_MAX_WAIT_S = 900.0
PAPERSET_THROTTLE_RETRIES = 8

# Hub links (`--links`, paperset/crawler/spiders/links.py): at most this many link calls (paper answers and pages of
# the filter and collection listings) a crawl, 0 for no cap; a paper whose pages would go past it is left
# unknown (links_budget), the run incomplete, and the next run of the same plan asks it first. The default
# is four windows of PAPERSET_BUDGET_API: a night's links take at most 20 minutes of the API budget.
PAPERSET_LINKS_MAX_CALLS = 1800
# Where the links file goes (JSON lines, one per answer); empty: `links.jsonl` in the spool, or beside
# `paperset crawl --out F` as F.links.jsonl.
PAPERSET_LINKS_OUT = ""
# A JSON list of paper ids whose links a `--links` crawl asks first, before any listing: `paperset run`
# writes there the papers the latest version holds as unknown (`link_status`), so a lookup that failed
# is retried the next night even when its paper left the crawled listings. Empty: none.
PAPERSET_LINKS_RETRY = ""

# --- safety and hygiene -------------------------------------------------------------------------
# No local control servers (Scrapy 2.19's RemoteControl runs code it is sent), no cookies.
REMOTE_CONTROL_ENABLED = False
TELNETCONSOLE_ENABLED = False
COOKIES_ENABLED = False
LOG_LEVEL = "INFO"
# No per-item and per-response DEBUG records unless LOG_LEVEL is DEBUG (paperset/crawler/extensions/logformat.py).
LOG_FORMATTER = "paperset.crawler.extensions.logformat.QuietLogFormatter"
# Per-response costs Scrapy pays by default: it reads and parses each callback's source for every
# response (the check is cached per bound method, a new one for every request), and it starts
# CONCURRENT_ITEMS tasks per response however few items the response has; an API page has 50 entries.
WARN_ON_GENERATOR_RETURN_VALUE = False
CONCURRENT_ITEMS = 50
# `paperset crawl --out` writes UTF-8, not \u escapes.
FEED_EXPORT_ENCODING = "utf-8"

# --- the spool and runs --------------------------------------------------------------------------
# The run's spool folder for the packager (`paperset run` sets it); empty: no spool.
PAPERSET_SPOOL = ""
# Entries (and done requests) written between two flushes to disk, each fsynced in a background thread,
# one at a time: what a crash of the machine can lose at most is twice this (a killed crawl refetches it;
# a distributed run is not resumed: a killed coordinator fails its run). After a failed fsync nothing more
# is written to the ledger and the spool is never marked finished.
PAPERSET_SPOOL_FLUSH_EVERY = 100
# Bytes of entries in one spool part before the next part begins: a `paperset run` reads each finished part
# for packaging while it still crawls, so a crawl's packaging reads at most about this much after it.
PAPERSET_SPOOL_PART_BYTES = 16 * 1024 * 1024
# The web archive (docs/archive.md): the gzip WARC file every response is recorded to, with its request
# (`paperset run` sets ROOT/NAME/archive/<run>.warc.gz; a taken name gets -2, -3, ...); empty: none.
PAPERSET_ARCHIVE = ""
# Web archives (WARC files) that answer every request instead of the network (`paperset run --from-archive`);
# a request none of them answers fails (not_in_archive: its listing is incomplete); empty: the network.
PAPERSET_REPLAY: list[str] = []
# Scrapy add-ons, each the one file that shows what a variant of the crawl changes: the web archive
# (paperset/crawler/fetch/archive/addon.py: the recorder, each response's receipt time on its entries, and with
# PAPERSET_REPLAY the replaying download handler); the distributed worker (paperset/crawler/distributed/addon.py,
# on with PAPERSET_WORKER_ID: the shared queue, entries to Redis, the shared near-dup index); the live progress
# bar (paperset/crawler/extensions/progress.py, on with PAPERSET_PROGRESS); the unthrottled crawl
# (paperset/crawler/fetch/politeness/unthrottled.py, on with PAPERSET_UNTHROTTLED: AutoThrottle and the budgets
# off, 4 requests at a time per host; for benchmarks and the local replica).
ADDONS = {"paperset.crawler.fetch.archive.addon.WebArchive": 0,
          "paperset.crawler.distributed.addon.DistributedWorker": 0,
          "paperset.crawler.extensions.progress.ProgressBar": 0,
          "paperset.crawler.fetch.politeness.unthrottled.Unthrottled": 0}
# Run unthrottled (the add-on Unthrottled of ADDONS): for benchmarks and the local replica only, never for the real
# site.
PAPERSET_UNTHROTTLED = False
# Continue the spool's crawl where a killed run stopped (`paperset run` sets it when it resumes).
PAPERSET_RESUME = False
# Counters move for one to two weeks: `paperset run --recent` re-crawls this many days, and papers listed
# within them are `provisional`.
PAPERSET_RECRAWL_DAYS = 7
# The refresh sweep (paperset/app/sweep.py): papers of the parent version, least recently seen first, whose
# counters `paperset run --recent` (or --sweep) asks again each night, one API call each. 400 and the
# window's few listing calls fit one budget window (PAPERSET_BUDGET_API, 450 per 5 minutes, under the
# site's 500): every paper is revisited within ceil(papers / this) nights; 0 turns the sweep off.
PAPERSET_SWEEP_SIZE = 400
# `--all-papers` pages the site's list of every indexed paper (/api/papers?cursor=, PAPERSET_API_PAGE_SIZE
# a page: 100, the site's most, makes the fewest calls): how many papers `--plan` expects there (an
# estimate: the site does not say; Daily Papers alone held ~18,500 in 2026-10).
PAPERSET_ALL_PAPERS_EXPECTED = 150_000
# A paper's details (--details, the refresh sweep) from its page first, not its API answer: the page also
# shows its upvoters (a preview) and its Daily Papers rank, at one page load each (PAPERSET_BUDGET_PAGES,
# 90 per 5 minutes, against 450 API calls); a page that fails is not asked of the API.
PAPERSET_DETAILS_FROM_PAGE = False

# --- cleaning: the pipelines, validation, the near-dup index, rejects -----------------------------
# Scrapy's item pipeline manager, telling the DoneTracker (paperset/crawler/tracking/done.py) when each item has left
# the pipelines without a per-item signal receiver.
ITEM_PROCESSOR = "paperset.crawler.tracking.items_left.ItemsLeftPipelineManager"
# Normalize before validating, so that validation judges what will be stored (a title of control
# characters only is empty once cleaned).
# Normalize comes first: until it, entries of the same site element share their paper's fields (extraction's
# memo, paperset/crawler/site/source.py read_item); from it on, each entry's values are its own.
ITEM_PIPELINES = {
    "paperset.crawler.pipelines.normalize.NormalizePipeline": 100,
    "paperset.crawler.pipelines.validate.ValidatePipeline": 200,
    "paperset.crawler.pipelines.dedupe_exact.ExactDedupePipeline": 300,
    "paperset.crawler.pipelines.dedupe_near.NearDedupePipeline": 400,
    "paperset.crawler.pipelines.spool.SpoolPipeline": 800,
}
# The near-duplicate index: `memory`, a folder (kept across runs: tomorrow's crawl knows today's
# papers), or `redis://host:port/db` (shared by several crawl processes). `paperset crawl --out F`
# keeps it in a `dedupe-index` folder beside F.
PAPERSET_DEDUPE_STORE = "memory"
# A folder index is immutable segments, one more per crawl that adds entries (docs/dedupe.md): past this
# many, the newest segments are merged into one when the crawl saves.
PAPERSET_DEDUPE_MAX_SEGMENTS = 16
# MinHash LSH parameters: words per shingle, permutations, the estimated Jaccard similarity at or above
# which two entries are near copies, and the permutations' seed (docs/dedupe.md says why these defaults).
PAPERSET_DEDUPE_SHINGLE_SIZE = 5
PAPERSET_DEDUPE_NUM_PERM = 128
PAPERSET_DEDUPE_THRESHOLD = 0.7
PAPERSET_DEDUPE_SEED = 1
# LSH bands and rows; None: derived from the threshold (20 x 6 at 0.7). Give both or neither.
PAPERSET_DEDUPE_BANDS = None
PAPERSET_DEDUPE_ROWS = None
# Pipeline switches: each step (and the rejects log) can be turned off with -s PAPERSET_<STEP>_ENABLED=False;
# `paperset run` refuses NORMALIZE and DEDUPE off (exit 2, before fetching: the packager needs their fields
# and keys), `paperset crawl` takes them.
PAPERSET_NORMALIZE_ENABLED = True
PAPERSET_VALIDATE_ENABLED = True
PAPERSET_DEDUPE_ENABLED = True
PAPERSET_REJECTS_ENABLED = True
# Per-crawler shared objects, found with crawler.get_extension: when each request is done (resume, shared
# queue acknowledgements) and the rate gate; the rejects log (every dropped entry kept with its reason). The live
# progress bar is added by its add-on (ADDONS) when PAPERSET_PROGRESS is on.
EXTENSIONS = {
    # Feeds export a batch's entries one by one (paperset/crawler/extensions/feeds.py).
    "scrapy.extensions.feedexport.FeedExporter": None,
    "paperset.crawler.extensions.feeds.EntryFeedExporter": 0,
    "paperset.crawler.tracking.done.DoneTracker": 50,
    "paperset.crawler.fetch.politeness.extension.PolitenessGate": 60,
    "paperset.crawler.clean.rejects.RejectsLog": 100,
}
# A live progress bar on stderr (paperset/crawler/extensions/progress.py, added by its add-on; the CLI turns it
# on when stdout and stderr are terminals, without --json).
PAPERSET_PROGRESS = False
# Every dropped entry, whole, with its reason (JSON lines); `paperset crawl --out F` writes F.rejects.jsonl.
PAPERSET_REJECTS = "rejects.jsonl"
# Validation: longer titles and abstracts are rejected (title_too_long, abstract_too_long; the longest
# real abstract is 1,923 characters), and dates later than now plus this many days (bad_date).
PAPERSET_MAX_TITLE_CHARS = 1_000
PAPERSET_MAX_ABSTRACT_CHARS = 20_000
PAPERSET_MAX_FUTURE_DAYS = 2

# --- browser (scrapy-playwright), used only for requests that ask for it ------------------------
# Which Chromium: $PAPERSET_CHROMIUM, else `chromium` on the PATH, else Playwright's own download.
DOWNLOAD_HANDLERS = {
    "http": "paperset.crawler.fetch.handler.PoliteDownloadHandler",
    "https": "paperset.crawler.fetch.handler.PoliteDownloadHandler",
}
PLAYWRIGHT_BROWSER_TYPE = "chromium"
# Empty: paperset.crawler.fetch.browser.launch_options(), computed when the browser starts
# (paperset/crawler/fetch/handler.py), so that loading the settings neither imports Playwright nor looks
# for Chromium. A value here replaces it.
PLAYWRIGHT_LAUNCH_OPTIONS: dict[str, object] = {}
PLAYWRIGHT_ABORT_REQUEST = "paperset.crawler.fetch.browser.should_abort_request"
PLAYWRIGHT_MAX_CONTEXTS = 2
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 4
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = 30_000
PLAYWRIGHT_RESTART_DISCONNECTED_BROWSER = True
# How the browser path fetches a listing: `auto` (API, then the page's JSON, then the browser),
# `api`, `page` or `browser`.
PAPERSET_FETCH = "auto"
# Rounds of scroll-and-click the browser makes on a dynamic page at most, and the wait after each (ms).
PAPERSET_BROWSER_MAX_ROUNDS = 400
PAPERSET_BROWSER_WAIT_MS = 150
# The list is over when the page marks its end, or when no card was added for this long (ms).
PAPERSET_BROWSER_QUIET_MS = 3000
# API pages are asked with this `limit` (the site caps it at 50... 100).
PAPERSET_API_PAGE_SIZE = 50

# --- distributed runs (set by `paperset worker` and the coordinator, not by hand) -----------------
# The dataset whose distributed run this crawler works for (its Redis keys are `paperset:<name>:`);
# empty: not part of a distributed run.
PAPERSET_REDIS_NAME = ""
# This worker's name in the run (claims, heartbeat); empty outside a distributed run.
PAPERSET_WORKER_ID = ""
