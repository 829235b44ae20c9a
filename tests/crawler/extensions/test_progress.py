"""Live progress: a bar with advancing counters under a terminal (a pseudo-terminal here), none without."""

from __future__ import annotations

import fcntl
import io
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time
from pathlib import Path

import pytest

from paperset.cli.args import wanted
from paperset.crawler.extensions.progress import figures, postfix, wait_left
from paperset.crawler.replica.server import ReplicaServer
from tests.conftest import ROOT

pytestmark = pytest.mark.slow  # runs `paperset` end to end, several seconds a test (docs/testing.md)

FRAME = re.compile(r"crawling (\d+)/(\d+) requests \|.*?\| (\d\d:\d\d) \| queued (\d+), failed (\d+) \| "
                   r"entries (\d+) \((\d+) dropped\), papers (\d+) \| throttle waits (\d+)(?: \(waiting ([\d.]+) s\))?")


def run_in_pty(args: list[str], cwd: Path, timeout: float = 180) -> tuple[int, str]:
    """Run a command with stdout and stderr on a pseudo-terminal; its exit code and all it wrote."""
    master, slave = pty.openpty()
    # A terminal 200 columns wide (a new pseudo-terminal has no size, and tqdm draws nothing in 0 columns).
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
    process = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, close_fds=True,
                               env={**os.environ, "TERM": "xterm"})
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    os.close(master)
    return process.wait(timeout=30), b"".join(chunks).decode("utf-8", "replace")


def frames(output: str) -> list[tuple[int, ...]]:
    """The bar's successive states: (done, total, queued, failed, entries, papers, waits)."""
    found = []
    for match in FRAME.finditer(output):
        done, total, _, queued, failed, entries, _, papers, waits, _ = match.groups()
        found.append(tuple(int(v) for v in (done, total, queued, failed, entries, papers, waits)))
    return found


@pytest.fixture
def slow_site():
    """A replica that takes 0.15 s per answer and rate limits once (429, Retry-After 2) at the 4th request."""
    with ReplicaServer() as server:
        server.delay_s = 0.15
        server.throttle_at = {4}
        server.retry_after = 2
        yield server


def test_crawl_on_a_terminal_shows_advancing_counters(slow_site: ReplicaServer, tmp_path: Path) -> None:
    days = slow_site.index["days"][:8]
    out = tmp_path / "entries.jsonl"
    rc, output = run_in_pty([str(ROOT / ".venv/bin/paperset"), "crawl", "--range", f"{days[0]}:{days[-1]}",
                             "--base-url", slow_site.base_url, "--out", str(out), "-s", "LOG_LEVEL=WARNING"],
                            tmp_path)
    assert rc == 0, output[-3000:]
    seen = frames(output)
    assert len(seen) >= 3, output[-3000:]
    done = [f[0] for f in seen]
    entries = [f[4] for f in seen]
    assert done == sorted(done) and entries == sorted(entries)
    assert done[0] < done[-1] and entries[0] < entries[-1]
    kept = len(out.read_text(encoding="utf-8").splitlines())
    # The last frame is the crawl's final count: every request done, none queued.
    last = seen[-1]
    assert last[0] == last[1] and last[2] == 0 and last[4] == kept
    assert last[6] >= 1  # the 429 was waited out
    waiting = [float(m.group(10)) for m in FRAME.finditer(output) if m.group(10)]
    assert waiting and max(waiting) <= 2 * 1.1 + 0.1  # the time left of the Retry-After wait, counting down
    assert "entries found" in output  # the summary follows the bar
    assert "Scraped from" not in output  # log lines keep their level (WARNING) above the bar


def test_run_on_a_terminal_shows_the_crawl_and_the_packaging_steps(replica, tmp_path: Path) -> None:
    day = replica.index["days"][0]
    rc, output = run_in_pty([str(ROOT / ".venv/bin/paperset"), "run", "--day", day, "--base-url",
                             replica.base_url, "--out", str(tmp_path / "ds")], tmp_path)
    assert rc == 0, output[-3000:]
    assert frames(output), output[-3000:]
    assert "Scraped from" not in output and "DEBUG" not in output  # the crawl's log stays in its file
    assert re.search(r"packaging.*folding them into Parquet", output)
    assert "published " in output


def test_no_progress_without_a_terminal_or_with_json(replica, tmp_path: Path) -> None:
    day = replica.index["days"][0]
    plain = subprocess.run([str(ROOT / ".venv/bin/paperset"), "run", "--day", day, "--base-url", replica.base_url,
                            "--out", str(tmp_path / "a")], capture_output=True, text=True, cwd=tmp_path, timeout=180)
    assert plain.returncode == 0, plain.stderr[-3000:]
    assert "crawling" not in plain.stdout + plain.stderr and "\r" not in plain.stdout + plain.stderr
    rc, output = run_in_pty([str(ROOT / ".venv/bin/paperset"), "run", "--day", day, "--base-url",
                             replica.base_url, "--out", str(tmp_path / "b"), "--json"], tmp_path)
    assert rc == 0, output[-3000:]
    assert not frames(output) and "packaging" not in output and "\r\x1b" not in output


def test_wanted_needs_both_terminals_and_no_json() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert wanted(False, (Tty(), Tty())) is True
    assert wanted(True, (Tty(), Tty())) is False
    assert wanted(False, (Tty(), io.StringIO())) is False


def test_wait_left_and_the_figures() -> None:
    class Gate:
        not_before = {"a": 110.0, "b": 90.0}
        starts = {"api": [95.0, 104.0], "page": []}

    assert wait_left(Gate(), 100.0) == 10.0
    assert wait_left(Gate(), 120.0) == 0.0
    stats = {"response_received_count": 7, "paperset/failed/timeout": 2, "item_scraped_count": 40,
             "item_dropped_count": 3, "paperset/dedupe/new": 38, "paperset/dedupe/near_merged": 1,
             "paperset/throttle/waits": 2}
    f = figures(stats, queued=4, wait_s=1.25)
    assert f == {"done": 9, "queued": 4, "failed": 2, "entries": 43, "dropped": 3, "papers": 37, "waits": 2,
                 "wait_s": 1.25}
    assert postfix(f) == ("queued 4, failed 2 | entries 43 (3 dropped), papers 37 | throttle waits 2 "
                          "(waiting 1.2 s)")
