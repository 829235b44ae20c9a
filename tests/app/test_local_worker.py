"""A local worker starts forked from the coordinator on Linux, as a new interpreter elsewhere: both run the
same command with the same environment, output and exit code."""

from __future__ import annotations

import time

import pytest

from paperset.app.local_worker import ForkedWorker, WorkerSpec, start_local_worker
from paperset.app.workers import worker_main


@pytest.mark.parametrize("fork", [True, False])
def test_a_local_worker_runs_the_command_either_way_alike(tmp_path, fork) -> None:
    err = tmp_path / "worker.err"
    # No run to join on a Redis nobody listens on: the worker's one-line error and exit 1.
    proc = start_local_worker(worker_main, WorkerSpec("t", wait_s=0), {"PAPERSET_REDIS_URL": "redis://127.0.0.1:9/0"},
                              err, fork=fork)
    assert isinstance(proc, ForkedWorker) is fork
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() == 1 and proc.pid > 0
    assert err.read_text().startswith("paperset worker: Redis at redis://127.0.0.1:9/0 failed (Error 111 connecting")
    proc.returncode = 0  # the coordinator marks a replaced worker so
    assert proc.poll() == 0



PARENT = """
import sys
from pathlib import Path
from paperset.app.local_worker import WorkerSpec, start_local_worker
from paperset.app.workers import worker_main
proc = start_local_worker(worker_main, WorkerSpec("t"), {"PAPERSET_REDIS_URL": sys.argv[1]}, Path(sys.argv[2]))
print(proc.pid, flush=True)
"""


@pytest.mark.redis
def test_a_forked_worker_does_not_outlive_the_coordinator_that_exits(tmp_path) -> None:
    """A worker waiting for a run (60 s) is stopped when the process that forked it exits."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT, redis_server

    with redis_server(tmp_path) as url:
        out = subprocess.run([sys.executable, "-c", PARENT, url, str(tmp_path / "w.err")], cwd=ROOT,
                             capture_output=True, text=True, timeout=60, check=True)
        pid = int(out.stdout)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
