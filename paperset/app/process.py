"""The command process itself, set up before a command does its work: its title in the process list (no
password in it) and pyarrow's pandas probe (settled without importing pandas). Each is for the command
processes only, never for library use.

Passwords out of the process list: a command given a URL with a password (`--redis redis://:PW@host`)
rewrites its own process title (what `ps` and /proc/<pid>/cmdline show) with the password replaced by
`***`, as database clients and servers do, using setproctitle (docs/distributed.md says why). Local
workers forked afterwards inherit the rewritten title and get the URL through the environment
(PAPERSET_REDIS_URL), never argv. Only a process started with such an argument pays for the import.

pyarrow's pandas probe, for the commands that package: the first time pyarrow converts Python values
(`pa.array`, `pa.scalar`, a compute kernel given a Python scalar) it imports pandas, about a quarter of a
second, only to ask whether the values are pandas objects; it asks once per process. paperset hands pyarrow
no pandas objects, so its packaging commands let that one question find no pandas. pyarrow's explicit
pandas functions (`to_pandas`, `Table.from_pandas`) still import pandas when called, and only after such a
call does pyarrow recognise pandas objects again (before it, `pa.array(a_series)` reads a Series as a plain
sequence: missing values as NaN, not null). A process that imported pandas already is left as it is. The
output does not change: the snapshot files are byte-identical either way (tests/app/test_lazy_imports.py)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

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


class _NoPandas:
    """A meta path finder that refuses `import pandas`."""

    def find_spec(self, name: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        if name.split(".")[0] == "pandas":
            raise ModuleNotFoundError("pandas is not used by paperset's packager", name=name)
        return None


def skip_pandas_probe() -> None:
    """Let pyarrow's check whether pandas is installed run now and find none (see the module doc)."""
    if "pandas" in sys.modules:
        return
    import pyarrow as pa

    finder = _NoPandas()
    sys.meta_path.insert(0, finder)
    try:
        pa.array([0])
    finally:
        sys.meta_path.remove(finder)
