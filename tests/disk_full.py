"""The `paperset` command on a disk that is full for some files: `python -m tests.disk_full PATTERN ARGS...`
from the repository root (ARGS as for `paperset`). Opening for writing any file whose path matches the
glob PATTERN fails with ENOSPC, as a full disk fails it: a test's way to let a full disk strike at one
chosen point of a run (the spool's meta.json, run.json, ...). `DISK_FAULT_ERRNO=EIO` (any errno name) makes
it another error of the disk. A test hook, not part of the product."""

from __future__ import annotations

import builtins
import errno
import fnmatch
import io
import os
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

WRITING = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def full_for(pattern: str) -> None:
    """Make every open for writing of a path matching `pattern` raise OSError(ENOSPC, or DISK_FAULT_ERRNO)."""
    real_open, real_os_open = io.open, os.open
    code = getattr(errno, os.environ.get("DISK_FAULT_ERRNO", "ENOSPC"))

    def refuse(path: Any) -> None:
        text = os.fsdecode(path) if isinstance(path, str | bytes | os.PathLike) else ""
        if text and fnmatch.fnmatch(str(Path(text).absolute()), pattern):
            raise OSError(code, os.strerror(code), text)

    def opened(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if any(c in mode for c in "wax+"):
            refuse(file)
        return real_open(file, mode, *args, **kwargs)

    def os_opened(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & WRITING:
            refuse(path)
        return real_os_open(path, flags, *args, **kwargs)

    io.open = builtins.open = opened  # type: ignore[assignment]
    os.open = os_opened  # type: ignore[assignment]


def main() -> int:
    full_for(sys.argv[1])
    [command] = entry_points(group="console_scripts", name="paperset")
    sys.argv = ["paperset", *sys.argv[2:]]
    return int(command.load()())


if __name__ == "__main__":
    sys.exit(main())
