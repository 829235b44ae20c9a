"""The replica's HTTP adapter: the faults it can inject and the request handler that answers from a served
site (paperset/crawler/replica/server.py's ReplicaServer, seen here only through the `Served` protocol: the server
imports this module, never the other way)."""

from __future__ import annotations

import logging
import socket
import struct
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from paperset.crawler.replica.garble import garble

logger = logging.getLogger(__name__)


FAULT_ACTIONS = ("status", "reset", "truncate", "stall", "redirect", "replace", "trickle", "garble")


@dataclass
class Fault:
    """One switchable fault: requests whose path with query matches `pattern` (a regex, searched) get
    `action` instead of (or besides) the normal answer, `times` times (None: forever).

    Actions: `status` (answer `status` with a short body and `headers`, such as a 429's `Retry-After`),
    `reset` (close the connection with a TCP reset, no answer), `truncate` (announce the whole body, send
    half of it, close), `stall` (wait `seconds`, then answer normally), `redirect` (answer `status` (302)
    with `Location: location`; a relative location stays on this server; no location: the request's own
    path and query, a page redirecting to itself), `replace` (the normal answer with `old` replaced by `new`
    in its body: poisoned items), `trickle` (the headers at once, then the body one byte every `seconds`,
    0.5 when not given: a slow answer, not a dead site), `garble` (the answer's items, in an API list or a
    page's hydration props, with `items[i]` applied to item i: `{"paper.upvotes": True}` sets that value,
    the wrong type where the site's is expected; paperset/crawler/replica/garble.py).
    """

    pattern: str
    action: str = "status"
    status: int = 500
    times: int | None = None
    location: str = ""
    seconds: float = 0.0
    old: bytes = b""
    new: bytes = b""
    items: list[dict[str, Any]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.action not in FAULT_ACTIONS:
            raise ValueError(f"unknown fault action {self.action!r}: one of {', '.join(FAULT_ACTIONS)}")


class Served(Protocol):
    """What the handler asks of the server it answers for (ReplicaServer)."""

    delay_s: float
    faults: list[Fault]

    def fault_for(self, path: str) -> Fault | None: ...

    def throttled(self, path: str) -> dict[str, str] | None: ...

    def respond(self, path: str, query: dict[str, list[str]],
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]: ...

    def log(self, path: str, status: int, arrived: float) -> None: ...


class _Discard:
    """A write end that drops everything: after a reset, the handler's final flush has nowhere to go."""

    def write(self, data: bytes) -> int:
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def answer(server: Served, fault: Fault | None, path: str,
           headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of a request, its fault applied: rate limiting first, then a fault that
    replaces the answer (status, redirect), else the site's answer, changed by a fault that changes it."""
    parts = urlsplit(path)
    limited = server.throttled(parts.path)
    if limited is not None:
        return 429, limited, b"rate limited"
    if fault is not None and fault.action == "status":
        return fault.status, {"Content-Type": "text/plain", **fault.headers}, f"fault {fault.status}".encode()
    if fault is not None and fault.action == "redirect":
        return fault.status if 300 <= fault.status < 400 else 302, {"Location": fault.location or path}, b""
    status, answer_headers, body = server.respond(parts.path, parse_qs(parts.query), headers)
    if fault is not None and fault.action == "replace":
        body = body.replace(fault.old, fault.new)
    elif fault is not None and fault.action == "garble":
        body = garble(body, fault.items)
    return status, answer_headers, body


def trickle(out: Any, body: bytes, every: float) -> bool:
    """Send the body one byte every `every` seconds; False when the client hung up first."""
    for i in range(len(body)):
        try:
            out.write(body[i:i + 1])
            out.flush()
        except OSError:
            return False
        time.sleep(every)
    return True


def handler_for(server: Served) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            arrived = time.monotonic()
            if server.delay_s:
                time.sleep(server.delay_s)
            fault = server.fault_for(self.path) if server.faults else None
            if fault is not None and fault.action == "reset":
                server.log(self.path, 0, arrived)
                self.reset()
                return
            if fault is not None and fault.action == "stall":
                time.sleep(fault.seconds)
            status, headers, body = answer(server, fault, self.path, dict(self.headers))
            server.log(self.path, status, arrived)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if fault is not None and fault.action == "truncate":
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.reset()
                return
            if fault is not None and fault.action == "trickle":
                self.close_connection = not trickle(self.wfile, body, fault.seconds or 0.5)
                return
            self.wfile.write(body)

        def reset(self) -> None:
            """Drop the connection with a TCP reset (SO_LINGER 0), nothing more sent."""
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            self.wfile = _Discard()

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("replica: " + format, *args)

    return Handler
