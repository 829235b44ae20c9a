"""A small threaded HTTP server for the replica, on 127.0.0.1 and a free port; tests and the demo share it."""

from __future__ import annotations

import argparse
import json
import logging
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from crawler.replica.build import DATA_DIR
from crawler.replica.site import ReplicaSite

logger = logging.getLogger(__name__)

ROBOTS = "User-agent: *\nDisallow: /login\nAllow: /papers\nAllow: /api/daily_papers\n"
_LISTING = re.compile(r"^/papers/(date|week|month)/([\w-]+)$")
_KINDS = {"date": "day", "week": "week", "month": "month"}


class ReplicaServer:
    """Serves a ReplicaSite; a context manager. `requests` logs (method, path with query, status).

    Switches (attributes, may change while serving): `api_enabled` (False: every `/api/` path is 404).
    """

    def __init__(self, data_dir: Path | None = None, host: str = "127.0.0.1", port: int = 0, *,
                 api_enabled: bool = True) -> None:
        self.site = ReplicaSite(data_dir or DATA_DIR)
        self.api_enabled = api_enabled
        self.requests: list[tuple[str, str, int]] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, port), _handler_for(self))
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

    def log(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self.requests.append((method, path, status))

    def respond(self, path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) for a GET of `path?query`."""
        if path == "/robots.txt":
            return 200, {"Content-Type": "text/plain"}, ROBOTS.encode()
        if path.startswith("/api/"):
            return self._api(path, query)
        if path == "/papers":
            if "date" in query:
                return self._listing("day", query["date"][0])
            return self._redirect_latest()
        match = _LISTING.match(path)
        if match:
            return self._listing(_KINDS[match.group(1)], match.group(2))
        return 404, {"Content-Type": "text/plain"}, b"not found"

    def _redirect_latest(self) -> tuple[int, dict[str, str], bytes]:
        return 302, {"Location": f"/papers/date/{self.site.latest_day}"}, b""

    def _listing(self, kind: str, key: str) -> tuple[int, dict[str, str], bytes]:
        if self.site.items(kind, key) is None:
            return self._redirect_latest()
        body = self.site.render_listing(kind, key).encode("utf-8")
        return 200, {"Content-Type": "text/html; charset=utf-8"}, body

    def _api(self, path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, str], bytes]:
        if not self.api_enabled or path != "/api/daily_papers":
            return 404, {"Content-Type": "application/json"}, b'{"error":"Not Found"}'
        kind, key = "day", self.site.latest_day
        for param, name in (("date", "day"), ("week", "week"), ("month", "month")):
            if param in query:
                kind, key = name, query[param][0]
        try:
            limit = int(query["limit"][0]) if "limit" in query else None
            page = int(query.get("p", ["0"])[0])
        except ValueError:
            return 400, {"Content-Type": "application/json"}, b'{"error":"bad limit or p"}'
        items = self.site.api_page(kind, key, limit, max(page, 0))
        return 200, {"Content-Type": "application/json"}, json.dumps(items, ensure_ascii=False).encode()


def _handler_for(server: ReplicaServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            parts = urlsplit(self.path)
            status, headers, body = server.respond(parts.path, parse_qs(parts.query))
            server.log("GET", self.path, status)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the http.server API
            logger.debug("replica: " + format, *args)

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the paperset replica of Hugging Face Papers.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    server = ReplicaServer(host=args.host, port=args.port)
    print(f"replica serving at {server.base_url} (Ctrl-C stops)", flush=True)
    try:
        server._httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server._httpd.server_close()


if __name__ == "__main__":
    main()
