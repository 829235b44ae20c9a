"""Starting a local worker of a distributed run (`paperset worker ...` on this machine). On Linux it is a
forked child of the coordinator: it starts with the modules the coordinator has already imported (Scrapy,
Twisted, redis-py, numpy) instead of a new interpreter importing them again (bench/README.md). Elsewhere
(macOS and Windows, where forking a process that has imported such libraries is unsafe) it is a new
interpreter. Either way it runs the command as the command line would, stdout to /dev/null, stderr to a file
in the run folder, and the coordinator sees it as a `subprocess.Popen` (pid, poll, a settable returncode)."""

from __future__ import annotations

import logging
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path
from typing import Protocol

CAN_FORK = sys.platform == "linux"


class WorkerProcess(Protocol):
    """What the coordinator asks of a local worker's process."""

    pid: int
    returncode: int | None

    def poll(self) -> int | None: ...


def _forked(argv: list[str], env: dict[str, str], err: str) -> None:
    """The forked child: stdout and stderr as a subprocess's, the coordinator's logging handlers dropped
    (the worker logs to its own file), then the command; its exit code is the child's."""
    os.environ.update(env)
    from paperset.proctitle import name_worker

    name_worker(argv)
    with Path(os.devnull).open("wb") as null, Path(err).open("ab") as errors:
        os.dup2(null.fileno(), 1)
        os.dup2(errors.fileno(), 2)
    # New text streams on those descriptors: the inherited ones may write elsewhere (a test's capture).
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115 - a descriptor, not a path
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False, buffering=1)  # noqa: SIM115
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    from paperset.cli import main

    sys.exit(main(argv))


class ForkedWorker:
    """`paperset <argv>` in a forked child (daemonic: it does not outlive a coordinator that exits)."""

    def __init__(self, argv: list[str], env: dict[str, str], err: Path) -> None:
        sys.stdout.flush()  # nothing the coordinator has buffered is written again by the child
        sys.stderr.flush()
        self.process = multiprocessing.get_context("fork").Process(
            target=_forked, args=(argv, env, str(err)), daemon=True)
        self.process.start()
        self.pid: int = self.process.pid or 0
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.process.exitcode
        return self.returncode


def start_local_worker(argv: list[str], env: dict[str, str], err: Path, *, fork: bool = CAN_FORK) -> WorkerProcess:
    """`paperset <argv>` with `env` added to the environment, stdout to /dev/null, stderr to `err`."""
    if fork:
        return ForkedWorker(argv, env, err)
    with err.open("ab") as errors:
        return subprocess.Popen(  # noqa: S603 - this interpreter running paperset itself
            [sys.executable, "-m", "paperset.cli", *argv], env={**os.environ, **env},
            stdout=subprocess.DEVNULL, stderr=errors)
