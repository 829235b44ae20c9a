"""A local worker starts forked from the coordinator on Linux, as a new interpreter elsewhere: both run the
same command with the same environment, output and exit code."""

from __future__ import annotations

import time

import pytest

from paperset.local_worker import ForkedWorker, start_local_worker


@pytest.mark.parametrize("fork", [True, False])
def test_a_local_worker_runs_the_command_either_way_alike(tmp_path, fork) -> None:
    err = tmp_path / "worker.err"
    # No run to join on a Redis nobody listens on: the worker's one-line error and exit 1.
    proc = start_local_worker(["worker", "--name", "t", "--wait", "0"], {"PAPERSET_REDIS_URL": "redis://127.0.0.1:9/0"},
                              err, fork=fork)
    assert isinstance(proc, ForkedWorker) is fork
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() == 1 and proc.pid > 0
    assert err.read_text().startswith("paperset worker: Redis at redis://127.0.0.1:9/0 failed (Error 111 connecting")
    proc.returncode = 0  # the coordinator marks a replaced worker so
    assert proc.poll() == 0

