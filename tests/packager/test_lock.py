"""One `paperset run` per dataset at a time; a lock left by a killed run is taken over."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from paperset.packager.lock import DatasetLocked, dataset_lock

HOLD = "import sys, time; from pathlib import Path; from paperset.packager.lock import dataset_lock\n" \
       "with dataset_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(60)\n"


def test_a_second_writer_is_refused_naming_the_holder_and_a_killed_holder_frees_it(tmp_path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / "ds")], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(DatasetLocked, match=f'"pid": {holder.pid}'), dataset_lock(tmp_path / "ds", wait=0.3):
        pass
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    with dataset_lock(tmp_path / "ds", wait=5):
        assert (tmp_path / "ds" / ".lock").read_text().startswith(f'{{"pid": {os.getpid()}')


def test_run_exits_4_when_the_dataset_is_locked(tmp_path, replica) -> None:
    from tests.conftest import run_paperset

    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path / "papers")], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        result = run_paperset("run", "--base-url", replica.base_url, "--day", "2025-02-03", "--out", str(tmp_path),
                              "--name", "papers")
        assert result.returncode == 4
        assert "is being written by another paperset run" in result.stderr
        assert not any(p.name[0].isdigit() for p in (tmp_path / "papers").iterdir())
    finally:
        holder.kill()
        holder.wait()
