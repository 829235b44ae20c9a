"""The `paperset` command leaves without tearing its objects down one by one (paperset/cli `script`), and
still says and writes everything: the exit code, stdout, stderr, the atexit handlers (logging's)."""

from __future__ import annotations

import subprocess
import sys
import tomllib

from tests.conftest import ROOT

PROBE = """
import atexit, logging, sys
from paperset.cli import script

logging.basicConfig(filename=sys.argv[1], level=logging.INFO)
logging.getLogger("probe").info("logged before leaving")  # flushed by logging's atexit handler
atexit.register(lambda: print("atexit ran", flush=False))
sys.argv = ["paperset", "verify", sys.argv[2]]
script()
print("never here")
"""


def test_the_command_leaves_with_its_code_its_output_and_its_atexit_handlers(tmp_path) -> None:
    log = tmp_path / "probe.log"
    out = subprocess.run([sys.executable, "-c", PROBE, str(log), str(tmp_path / "nothing")], capture_output=True,
                         text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 1  # a snapshot that does not verify
    assert out.stdout.splitlines()[-1] == "atexit ran"
    assert "never here" not in out.stdout
    assert out.stderr.strip().endswith(f"paperset verify: {tmp_path / 'nothing'} does not verify (1 problem)")
    assert log.read_text().strip() == "INFO:probe:logged before leaving"


def test_the_console_script_and_python_m_are_the_same_entry() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"paperset": "paperset.cli:script"}
    assert "script()" in (ROOT / "paperset" / "cli" / "__main__.py").read_text().splitlines()


LOST_AT_EXIT = """
import atexit, sys
from paperset.cli import script

def full_disk():  # the last output is buffered for a stdout whose disk is full
    sys.stdout = open("/dev/full", "w")
    print("the outcome line")

atexit.register(full_disk)
sys.argv = ["paperset", "run", "--day", "2025-01-06", "--out", sys.argv[1], "--plan"]
script()
"""


def test_output_that_cannot_be_written_at_exit_is_not_exit_0(tmp_path) -> None:
    """A command's buffered output lost at exit (a full disk behind `> file`): 120, as Python's own exit."""
    out = subprocess.run([sys.executable, "-c", LOST_AT_EXIT, str(tmp_path / "out")], capture_output=True,
                         text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 120
    assert "2025-01-06" in out.stdout  # the plan itself was written before
