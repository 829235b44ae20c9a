"""The replica's HTTP request handler: answers from the ReplicaServer, with its faults, throttling and delay."""

from __future__ import annotations

import logging
import socket
import struct
import time
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from crawler.replica.server import ReplicaServer

logger = logging.getLogger(__name__)


class _Discard:
    """A write end that drops everything: after a reset, the handler's final flush has nowhere to go."""

    def write(self, data: bytes) -> int:
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def handler_for(server: ReplicaServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
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
            limited = server.throttled(parts.path)
            if limited is not None:
                status, headers, body = 429, limited, b"rate limited"
            elif fault is not None and fault.action == "status":
                status, headers, body = fault.status, {"Content-Type": "text/plain"}, f"fault {fault.status}".encode()
            elif fault is not None and fault.action == "redirect":
                status, headers, body = fault.status if 300 <= fault.status < 400 else 302, \
                    {"Location": fault.location or self.path}, b""
            else:
                status, headers, body = server.respond(parts.path, parse_qs(parts.query), dict(self.headers))
                if fault is not None and fault.action == "replace":
                    body = body.replace(fault.old, fault.new)
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
                self.trickle(body, fault.seconds or 0.5)
                return
            self.wfile.write(body)

        def trickle(self, body: bytes, every: float) -> None:
            """Send the body one byte every `every` seconds, until done or the client hangs up."""
            for i in range(len(body)):
                try:
                    self.wfile.write(body[i:i + 1])
                    self.wfile.flush()
                except OSError:
                    self.close_connection = True
                    return
                time.sleep(every)

        def reset(self) -> None:
            """Drop the connection with a TCP reset (SO_LINGER 0), nothing more sent."""
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            self.wfile = _Discard()

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("replica: " + format, *args)

    return Handler
