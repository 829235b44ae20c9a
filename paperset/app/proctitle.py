"""Passwords out of the process list: a command given a URL with a password (`--redis redis://:PW@host`)
rewrites its own process title (what `ps` and /proc/<pid>/cmdline show) with the password replaced by
`***`, as database clients and servers do, using setproctitle (docs/distributed.md says why). Local
workers forked afterwards inherit the rewritten title and get the URL through the environment
(PAPERSET_REDIS_URL), never argv. Only a process started with such an argument pays for the import."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from paperset.spool.redact import redact


def hide_secrets(argv: Sequence[str] | None = None) -> bool:
    """Rewrite this process's title without the passwords in its arguments (default: sys.argv); whether
    there was one to hide."""
    args = list(sys.argv if argv is None else argv)
    if [redact(arg) for arg in args] == args:
        return False
    from setproctitle import getproctitle, setproctitle

    setproctitle(redact(getproctitle()))
    return True


def name_worker(argv: Sequence[str]) -> None:
    """A forked local worker's title: its own command (which holds no secret), not the coordinator's."""
    from setproctitle import setproctitle

    setproctitle(" ".join(["paperset", *(redact(arg) for arg in argv)]))
