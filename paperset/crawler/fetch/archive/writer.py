"""The web archive's writer process: one child process per recording crawler builds each exchange's WARC
records (record.py: warcio's records and digests, mostly pure Python) and appends them to the archive, so
that building them never holds the GIL of the crawl's thread (it did in a writer thread: a fifth of an
API crawl's wall time).

The recorder (recorder.py) creates the file, writes its warcinfo record and starts the process with
`ArchiveWriter` (multiprocessing's "spawn": a new interpreter, never a fork of a process running a reactor
and threads); `serve`, the process, opens the file for appending. Each exchange goes over a pipe as a
pickled `Exchange`; the process builds its records, writes them with one `write` (a crawl killed at any
moment leaves whole gzip members only) and answers in order: the bytes written, or the error text. The
recorder reads the answers on its event loop (`add_reader`: no thread) and each response waits for its
own. The process fsyncs the file every `sync_every` exchanges (after answering) and at the end; the empty
message ends it, and its last answer is its time building and writing. It imports warcio, isal and the
redaction rule, no Scrapy nor Twisted (tested), besides what any spawned process imports first: the
recording program's `__main__` (paperset's command line, light; a script of one's own that records a crawl
keeps its work under `if __name__ == "__main__":`, as multiprocessing asks). It ignores SIGINT and SIGTERM
(a Ctrl-C, or a service manager's stop sent to the whole process group, stops the crawl gracefully: what
that drain receives is still recorded) and ends when the recorder's process is gone (its pipe closes). If
it dies, the responses waiting for it and every later one fail with OSError, as a failed `write` made them
fail: the run says it is incomplete."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import multiprocessing
import multiprocessing.util
import os
import pickle
import signal
import time
from collections import deque
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from paperset.crawler.fetch.archive.record import Exchange, exchange_records

logger = logging.getLogger(__name__)

# The process's answers: (OK, bytes written), (FAILED, error text); its last: (CLOSED, seconds it spent
# building and writing). The empty message asks it to finish.
OK, FAILED, CLOSED = "ok", "failed", "closed"
STOP = b""
# How long the recorder waits at the end for the process to write what it was sent, fsync and exit.
CLOSE_TIMEOUT_S = 120.0
# The pipe to the process holds this much (Linux's pipe-max-size by default; best effort), so sending a
# page's exchange (a search page is ~560 KB) seldom waits for the process to read it.
PIPE_BYTES = 1 << 20
ERROR_CHARS = 1000


def serve(requests: Connection, answers: Connection, path: str, sync_every: int) -> None:
    """The writer process: open `path` for appending, record each exchange `requests` brings and answer it
    on `answers`, until the empty message (or the recorder's process is gone); fsync, then send the time
    spent."""
    for stop in (signal.SIGINT, signal.SIGTERM):  # the crawl stops gracefully; its end closes our pipe
        signal.signal(stop, signal.SIG_IGN)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    spent, unsynced = 0.0, 0
    try:
        while (message := _next(requests)) is not None:
            started = time.perf_counter()
            answer = _record(fd, message)
            spent += time.perf_counter() - started
            answers.send_bytes(pickle.dumps(answer))
            unsynced += 1
            if unsynced >= sync_every:  # after the answer: the response does not wait for the disk
                os.fsync(fd)
                unsynced = 0
    finally:
        os.fsync(fd)
        os.close(fd)
    with contextlib.suppress(OSError):
        answers.send_bytes(pickle.dumps((CLOSED, spent)))


def _next(requests: Connection) -> bytes | None:
    """The next exchange's message; None for the end (asked, or the recorder's end of the pipe closed)."""
    try:
        message = requests.recv_bytes()
    except EOFError:
        return None
    return message or None


def _record(fd: int, message: bytes) -> tuple[str, Any]:
    """Build one exchange's records and append them in one write: (OK, size) or (FAILED, why)."""
    try:
        data = exchange_records(pickle.loads(message))  # noqa: S301 - sent by the recorder that started us
        written = os.write(fd, data)
    except Exception as exc:  # the waiting response's error (a full disk, a record warcio refuses)
        return FAILED, f"archive writer: {type(exc).__name__}: {exc}"[:ERROR_CHARS]
    if written != len(data):
        return FAILED, f"archive writer: {written} of {len(data)} bytes written"
    return OK, written


def _widen(fd: int) -> None:
    with contextlib.suppress(AttributeError, OSError):  # F_SETPIPE_SZ is Linux's
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)


class ArchiveWriter:
    """The recorder's side of its writer process, started on `path` (created, its warcinfo written):
    `write` sends an exchange and gives a future of the bytes written (failed with OSError if they were
    not), `close` ends the process and gives its time building and writing."""

    def __init__(self, path: Path, sync_every: int) -> None:
        context = multiprocessing.get_context("spawn")
        their_requests, self.requests = context.Pipe(duplex=False)
        self.answers, their_answers = context.Pipe(duplex=False)
        _widen(self.requests.fileno())
        self.process = context.Process(target=serve, args=(their_requests, their_answers, str(path), sync_every),
                                       name="paperset-archive-writer", daemon=True)
        self.process.start()
        their_requests.close()  # the process holds them now: its end closes when it exits
        their_answers.close()
        # A crawl that never closes its recorder (a pipeline that failed to build: no engine, no
        # spider_closed): at exit, before multiprocessing joins its children, the pipe closes and the process
        # ends (it ignores the SIGTERM multiprocessing sends first).
        multiprocessing.util.Finalize(self, self.requests.close, exitpriority=10)
        self.waiting: deque[asyncio.Future[int]] = deque()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.failed: str | None = None

    def write(self, exchange: Exchange) -> asyncio.Future[int]:
        """Send `exchange` to the process (pickled, one message): the future of its answer."""
        if self.failed is not None:
            raise OSError(self.failed)
        loop = asyncio.get_running_loop()
        if loop is not self.loop:
            self._unwatch()
            self.loop = loop
            loop.add_reader(self.answers.fileno(), self._answered)
        try:
            self.requests.send_bytes(pickle.dumps(exchange, protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:
            self._lost()
            raise OSError(self.failed) from None
        future: asyncio.Future[int] = loop.create_future()
        self.waiting.append(future)
        return future

    def _answered(self) -> None:
        """The event loop's reader: an answer is there (a small one, written whole), for the oldest write."""
        try:
            answer = pickle.loads(self.answers.recv_bytes())  # noqa: S301 - our own process's answer
        except (EOFError, OSError):
            self._lost()
            return
        self._settle(answer)

    def _settle(self, answer: tuple[str, Any]) -> None:
        kind, value = answer
        future = self.waiting.popleft()
        if future.done():  # its response was cancelled meanwhile
            return
        if kind == OK:
            future.set_result(value)
        else:
            future.set_exception(OSError(value))

    def _lost(self) -> None:
        """The process is gone: every waiting write and every later one fails, naming its exit code."""
        self._unwatch()
        self.process.join(timeout=5.0)
        self._fail(f"archive writer exited (code {self.process.exitcode})")
        logger.error("%s: no response can be recorded any more, each fails", self.failed)

    def _fail(self, why: str) -> None:
        self.failed = self.failed or why
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(OSError(self.failed))

    def _unwatch(self) -> None:
        if self.loop is not None and not self.loop.is_closed():
            self.loop.remove_reader(self.answers.fileno())
        self.loop = None

    def close(self) -> float:
        """Ask the process to finish once it has written everything it was sent, and wait (at most
        CLOSE_TIMEOUT_S) for its last answers and its exit: the seconds it spent building and writing."""
        self._unwatch()
        spent, deadline = 0.0, time.monotonic() + CLOSE_TIMEOUT_S
        if self.failed is None:
            try:
                self.requests.send_bytes(STOP)
                while self.answers.poll(max(0.0, deadline - time.monotonic())):
                    kind, value = pickle.loads(self.answers.recv_bytes())  # noqa: S301 - our own process's
                    if kind == CLOSED:
                        spent = value
                        break
                    self._settle((kind, value))
            except (EOFError, OSError):
                pass  # gone: its exit code says how
        self.process.join(max(0.0, deadline - time.monotonic()))
        if self.process.exitcode is None:
            logger.error("the archive writer did not finish within %g s: killed", CLOSE_TIMEOUT_S)
            self.process.kill()
            self.process.join()
        elif self.process.exitcode != 0 and self.failed is None:
            logger.error("archive writer exited (code %s) before it was asked to finish", self.process.exitcode)
        self._fail(f"archive writer exited (code {self.process.exitcode})")
        self.requests.close()
        self.answers.close()
        return spent
