"""A small threaded HTTP server for the replica, on 127.0.0.1 and a free port; tests and the demo share it."""

from __future__ import annotations

import argparse
import json
import logging
import re
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from paperset.crawler.replica import cursor
from paperset.crawler.replica.build import DATA_DIR
from paperset.crawler.replica.clock import items_at, paper_at
from paperset.crawler.replica.http import Fault, handler_for
from paperset.crawler.replica.links import LinkWorld, link_answer
from paperset.crawler.replica.render import render_dynamic, render_listing, render_paper
from paperset.crawler.replica.site import ReplicaSite, paginate
from paperset.crawler.site.kinds import daily_api_kinds, page_segments

logger = logging.getLogger(__name__)

ROBOTS = "User-agent: *\nDisallow: /login\nAllow: /papers\nAllow: /api/daily_papers\n"
_LISTING = re.compile(r"^/papers/(\w+)/([\w-]+)$")  # the kinds' page paths of paperset/crawler/site/kinds.py
_PAPER = re.compile(r"^/papers/(\d{4}\.\d{4,5})$")
_API_PAPER = re.compile(r"^/api/papers/(\d{4}\.\d{4,5})$")
DYNAMIC_PAGE_SIZE = 20
JSON = {"Content-Type": "application/json"}
HTML = {"Content-Type": "text/html; charset=utf-8"}
_API_WEEK = re.compile(r"\d{4}-W(?:0[1-9]|[1-4]\d|5[0-2])")


class _Server(ThreadingHTTPServer):
    # The default backlog (5) drops connections under a burst of concurrent requests (several workers),
    # which the client's kernel retries a second later: a delay the real site does not have.
    request_queue_size = 256

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (a timeout, a fault) while its answer was written: not the server's error.
        logger.debug("replica: connection from %s ended early", client_address, exc_info=True)


class ReplicaServer:
    """Serves a ReplicaSite; a context manager. `requests` logs (method, path with query, status).

    Switches (attributes, may change while serving): `api_enabled` (False: `/api/` answers 404 to
    every client but the replica's own page scripts, which send `X-Replica-Page`: an API closed to
    crawlers while the pages still work); `dynamic` (True: search and trending pages carry no results
    in their HTML; a script fetches and renders them, more on scrolling and "Load more");
    `layout_changed` (True: a redesign: the hydration element renamed, cards restyled);
    `night` (the Hub's clock: which links and repo counters the link endpoints serve,
    paperset/crawler/replica/links.py);
    `throttle_at` (request numbers, counted from 1 without robots.txt, at which the site starts
    answering 429 with `Retry-After: retry_after` to everything for `retry_after` seconds).
    `delay_s` (seconds every answer takes, a slow site). `faults` (a list of `Fault`, first match
    wins; `add_fault` appends one) and `robots` (the robots.txt text, None: the site's own). `timed`
    logs (monotonic time, path with query, status) of every request; a reset logs status 0.
    `night` (0: the corpus as committed) moves every paper's counters on (paperset/crawler/replica/clock.py).
    """

    def __init__(self, data_dir: Path | None = None, host: str = "127.0.0.1", port: int = 0, *,
                 api_enabled: bool = True, dynamic: bool = False, layout_changed: bool = False) -> None:
        self.site = ReplicaSite(data_dir or DATA_DIR)
        self.layout_changed = layout_changed
        self.api_enabled = api_enabled
        self.dynamic = dynamic
        self.timed: list[tuple[float, str, int]] = []
        self.throttle_at: set[int] = set()
        self.retry_after = 2
        self.limited_until = 0.0
        self.delay_s = 0.0
        self.faults: list[Fault] = []
        self.robots: str | None = None
        # The clock (paperset/crawler/replica/clock.py, links.py): night N's counters, links and repo
        # counters; tests move it.
        self.night = 0
        # Every indexed paper, for `/api/papers?cursor=` (paperset/crawler/replica/cursor.py).
        self.every_paper = cursor.every_paper(self.site.rows)
        self.links = LinkWorld(heavy=(self.site.listings["day", self.index["days"][0]][0]["paper"]["id"],))
        self._count = 0
        self._lock = threading.Lock()
        self._httpd = _Server((host, port), handler_for(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def index(self) -> dict[str, Any]:
        return self.site.index

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ReplicaServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="replica", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ReplicaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def requests(self) -> list[tuple[str, str, int]]:
        """(method, path with query, status) of every request (the replica answers GET only)."""
        return [("GET", path, status) for _, path, status in self.timed]

    def log(self, path: str, status: int, at: float) -> None:
        with self._lock:
            self.timed.append((at, path, status))

    def add_fault(self, pattern: str, action: str = "status", **fields: Any) -> Fault:
        """Switch a fault on (see Fault); returns it (remove it from `faults` to switch it off)."""
        fault = Fault(pattern, action, **fields)
        with self._lock:
            self.faults.append(fault)
        return fault

    def fault_for(self, path: str) -> Fault | None:
        """The fault that applies to this request (counting down its `times`), else None."""
        with self._lock:
            for fault in self.faults:
                if re.search(fault.pattern, path):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self.faults.remove(fault)
                    return fault
        return None

    def throttled(self, path: str) -> dict[str, str] | None:
        """The 429 headers when the site is rate limiting this request, else None."""
        if path == "/robots.txt":
            return None
        with self._lock:
            self._count += 1
            now = time.monotonic()
            if self._count in self.throttle_at and now >= self.limited_until:
                self.limited_until = now + self.retry_after
            if now >= self.limited_until:
                return None
            left = max(int(self.limited_until - now + 0.999), 1)
        return {"Content-Type": "text/plain", "Retry-After": str(left), "RateLimit": f'"api";r=0;t={left}'}

    def respond(self, path: str, query: dict[str, list[str]],
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) for a GET of `path?query`."""
        if path == "/robots.txt":
            return 200, {"Content-Type": "text/plain"}, (ROBOTS if self.robots is None else self.robots).encode()
        if path.startswith("/api/"):
            if not self.api_enabled and "x-replica-page" not in {k.lower() for k in (headers or {})}:
                return 404, JSON, b'{"error":"Not Found"}'
            return self._api(path, query)
        if path == "/papers":
            if "q" in query:
                return self._search_page(query["q"][0])
            if "date" in query:
                return self._listing("day", query["date"][0])
            return self._redirect_latest()
        if path == "/papers/trending":
            if self.dynamic:
                return 200, HTML, render_dynamic(source="/api/papers/trending", query="",
                                                 page_size=DYNAMIC_PAGE_SIZE).encode()
            body = render_listing(self.site.trending_props(), self.site.items("trending", "trending") or [],
                                  stamp=self.site.latest_day)
            return 200, HTML, body.encode()
        match = _LISTING.match(path)
        if match and match.group(1) in page_segments():
            return self._listing(page_segments()[match.group(1)], match.group(2))
        match = _PAPER.match(path)
        if match and match.group(1) in self.site.papers:
            row = self.site.papers[match.group(1)]
            paper = paper_at(row["paper"], row["numComments"], self.night)
            return 200, HTML, render_paper(paper, row["numComments"], row["_rank"] + 1).encode()
        return 404, {"Content-Type": "text/plain"}, b"not found"

    def _redirect_latest(self) -> tuple[int, dict[str, str], bytes]:
        return 302, {"Location": f"/papers/date/{self.site.latest_day}"}, b""

    def _listing(self, kind: str, key: str) -> tuple[int, dict[str, str], bytes]:
        items = self.site.items(kind, key)
        if items is None:
            return self._redirect_latest()
        stamp = f"{key}T00:00:00.000Z" if kind == "day" else key
        body = render_listing(self.site.props(kind, key), items, stamp=stamp)
        if self.layout_changed:
            body = (body.replace('data-target="DailyPapers"', 'data-target="PapersFeed"')
                    .replace("<article", '<div data-card="paper"').replace("</article>", "</div>")
                    .replace("<h3", "<h4").replace("</h3>", "</h4>"))
        return 200, HTML, body.encode()

    def _search_page(self, q: str) -> tuple[int, dict[str, str], bytes]:
        if self.dynamic:
            body = render_dynamic(source="/api/papers/search", query=q, page_size=DYNAMIC_PAGE_SIZE)
        else:
            props = self.site.search_props(q)
            body = render_listing(props, props["searchResults"], stamp=self.site.latest_day, search=True)
        return 200, HTML, body.encode()

    def _api(self, path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, str], bytes]:
        if path == "/api/papers":
            return cursor.page(self.every_paper, query, self.night, self.base_url)
        try:
            limit = int(query["limit"][0]) if "limit" in query else None
            page = max(int(query.get("p", ["0"])[0]), 0)
        except ValueError:
            return 400, JSON, b'{"error":"bad limit or p"}'
        if path == "/api/daily_papers":
            if "week" in query and not _API_WEEK.fullmatch(query["week"][0]):
                return 400, JSON, b'{"error":"week must match YYYY-W01..YYYY-W52"}'  # as the site: no W53
            kind, key = "day", self.site.latest_day
            for param, name in daily_api_kinds().items():
                if param in query:
                    kind, key = name, query[param][0]
            items = self.site.items(kind, key) or []
        elif path == "/api/papers/search":
            items = self.site.search(query.get("q", [""])[0])
        elif path == "/api/papers/trending":
            items = self.site.items("trending", "trending") or []
        elif _API_PAPER.match(path) and _API_PAPER.match(path).group(1) in self.site.papers:  # type: ignore[union-attr]
            paper_id = path.rsplit("/", 1)[1]
            row = self.site.papers[paper_id]
            paper = paper_at(row["paper"], row["numComments"], self.night)
            paper = paper | self.links.paper_fields(paper_id, self.night)
            return 200, JSON, json.dumps(paper).encode()
        else:
            linked = link_answer(self.links, self.night, path, query, self.base_url)
            return linked or (404, JSON, b'{"error":"Not Found"}')
        return 200, JSON, json.dumps(items_at(paginate(items, limit, page), self.night)).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the paperset replica of Hugging Face Papers.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--night", type=int, default=0, help="the Hub's clock: which night's links to serve")
    args = parser.parse_args()
    server = ReplicaServer(host=args.host, port=args.port)
    server.night = args.night
    print(f"replica serving at {server.base_url} (Ctrl-C stops)", flush=True)
    try:
        server._httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server._httpd.server_close()


if __name__ == "__main__":
    main()
