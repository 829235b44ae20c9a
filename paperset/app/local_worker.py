"""Starting a local worker of a distributed run (`paperset worker ...` on this machine). On Linux it is a
forked child of the coordinator: it starts with the modules the coordinator has already imported (Scrapy,
Twisted, redis-py, numpy) instead of a new interpreter importing them again (bench/README.md). Elsewhere
(macOS and Windows, where forking a process that has imported such libraries is unsafe) it is a new
interpreter. Either way it runs one WorkerSpec (the forked child calls the coordinator's worker function
with it directly, never the argument parser; the new interpreter gets its `paperset worker` command line),
stdout to /dev/null, stderr to a file in the run folder, and the coordinator sees it as a `subprocess.Popen`
(pid, poll, a settable returncode). Imports nothing of paperset but the process title."""

from __future__ import annotations

import logging
import multiprocessing
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

CAN_FORK = sys.platform == "linux"


@dataclass(frozen=True)
class WorkerSpec:
    """One crawl worker of a distributed run, as `paperset worker` is given it: the dataset whose run to
    join, its name, its log file, how long to wait for the run, and the Redis URL (None: $PAPERSET_REDIS_URL;
    a local worker gets it through the environment, never argv)."""

    name: str
    worker_id: str | None = None
    log_file: str | None = None
    wait_s: float = 60.0
    url: str | None = None

    def argv(self) -> list[str]:
        """The `paperset` arguments of the same worker (the URL left to the environment)."""
        argv = ["worker", "--name", self.name, "--wait", f"{self.wait_s:g}"]
        if self.worker_id:
            argv += ["--worker-id", self.worker_id]
        return argv + (["--log-file", self.log_file] if self.log_file else [])


# The function a worker runs (paperset.app.workers.worker_main): its exit code is the process's.
WorkerMain = Callable[[WorkerSpec], int]


class WorkerProcess(Protocol):
    """What the coordinator asks of a local worker's process."""

    pid: int
    returncode: int | None

    def poll(self) -> int | None: ...


def _forked(target: WorkerMain, spec: WorkerSpec, env: dict[str, str], err: str) -> None:
    """The forked child: stdout and stderr as a subprocess's, the coordinator's logging handlers dropped
    (the worker logs to its own file), then `target(spec)`; its exit code is the child's. It may start
    processes of its own (its web archive's writer): it is daemonic for the coordinator only (which ends
    it at exit), and multiprocessing lets no daemonic process start one."""
    multiprocessing.current_process().daemon = False
    os.environ.update(env)
    from paperset.app.process import name_worker

    name_worker(spec.argv())
    with Path(os.devnull).open("wb") as null, Path(err).open("ab") as errors:
        os.dup2(null.fileno(), 1)
        os.dup2(errors.fileno(), 2)
    # New text streams on those descriptors: the inherited ones may write elsewhere (a test's capture).
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115 - a descriptor, not a path
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False, buffering=1)  # noqa: SIM115
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    sys.exit(int(target(spec)))


class ForkedWorker:
    """`target(spec)` in a forked child (daemonic: it does not outlive a coordinator that exits)."""

    def __init__(self, target: WorkerMain, spec: WorkerSpec, env: dict[str, str], err: Path) -> None:
        sys.stdout.flush()  # nothing the coordinator has buffered is written again by the child
        sys.stderr.flush()
        self.process = multiprocessing.get_context("fork").Process(
            target=_forked, args=(target, spec, env, str(err)), daemon=True)
        self.process.start()
        self.pid: int = self.process.pid or 0
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.process.exitcode
        return self.returncode


def start_local_worker(target: WorkerMain, spec: WorkerSpec, env: dict[str, str], err: Path, *,
                       fork: bool = CAN_FORK) -> WorkerProcess:
    """The worker `spec` with `env` added to the environment, stdout to /dev/null, stderr to `err`: forked,
    `target(spec)`; else a new interpreter running `paperset <spec.argv()>`."""
    if fork:
        return ForkedWorker(target, spec, env, err)
    with err.open("ab") as errors:
        return subprocess.Popen(  # noqa: S603 - this interpreter running paperset itself
            [sys.executable, "-m", "paperset.cli", *spec.argv()], env={**os.environ, **env},
            stdout=subprocess.DEVNULL, stderr=errors)
