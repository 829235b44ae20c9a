"""Arrow's buffers come from the system allocator in paperset's processes (paperset/spool/arrow_memory.py),
unless the user chose a pool with ARROW_DEFAULT_MEMORY_POOL; pyarrow imported first or not."""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = """
import os, sys
{before}
{call}
import pyarrow as pa
print(pa.default_memory_pool().backend_name, os.environ.get("ARROW_DEFAULT_MEMORY_POOL"))
"""
PACKAGE = "from paperset.spool.arrow_memory import use_system_pool; use_system_pool()"
CLI = "from paperset.cli import main\ntry:\n    main(['--version'])\nexcept SystemExit:\n    pass"


def pools(before: str, call: str, chosen: str | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    if chosen:
        env["ARROW_DEFAULT_MEMORY_POOL"] = chosen
    done = subprocess.run([sys.executable, "-c", SCRIPT.format(before=before, call=call)], env=env,
                          capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


def test_bundled_pool_is_not_the_system_one():
    # what the tests below change: pyarrow's own default (mimalloc or jemalloc, by platform), not the system's
    pool, chosen = pools("", "").split()
    assert (pool in ("mimalloc", "jemalloc"), chosen) == (True, "None")


def test_system_pool_chosen_before_pyarrow_is_imported():
    assert pools("", PACKAGE) == "system system"


def test_system_pool_chosen_after_pyarrow_is_imported():
    assert pools("import pyarrow as pa; pa.default_memory_pool()", PACKAGE) == "system system"


def test_the_cli_chooses_it_for_every_command_and_the_processes_it_starts():
    assert pools("", CLI) == "system system"


def test_the_users_choice_is_kept():
    assert pools("", PACKAGE, chosen="mimalloc") == "mimalloc mimalloc"
    assert pools("import pyarrow", CLI, chosen="jemalloc") == "jemalloc jemalloc"
