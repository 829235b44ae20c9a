"""A Redis password given on the command line (`paperset run --redis redis://:PW@host --workers 2`) is in
no process title of the run: /proc/<pid>/cmdline of the coordinator and of every process it starts (the
forked workers inherit its argv) is read while they run, against a real redis-server with requirepass;
and the password is in no file the run leaves."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from paperset.app.process import hide_secrets
from paperset.crawler.replica.server import ReplicaServer
from tests.conftest import ROOT, redis_server

pytestmark = [pytest.mark.redis, pytest.mark.slow]

PASSWORD = "Titl3-s3cret-pw"


def children() -> dict[int, list[int]]:
    """Every process's children, from /proc/<pid>/stat (the parent PID is its fourth field)."""
    found: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            found.setdefault(parent, []).append(int(entry.name))
    return found


def descendants(pid: int) -> list[int]:
    tree, todo, found = children(), [pid], []
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def test_the_password_is_in_no_process_title(tmp_path) -> None:
    root = tmp_path / "out"
    with ReplicaServer() as server, redis_server(tmp_path, password=PASSWORD) as url:
        server.delay_s = 0.2  # the run lasts long enough to be looked at while it runs
        days = server.index["days"]
        run = subprocess.Popen(
            [str(ROOT / ".venv/bin/paperset"), "run", "--base-url", server.base_url, "--range",
             f"{days[0]}:{days[9]}", "--redis", url, "--workers", "2", "--out", str(root), "--json",
             "-s", "AUTOTHROTTLE_ENABLED=False"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
        titles: dict[int, set[bytes]] = {}
        # From the moment the run has a folder (the command's checks are done) until it ends.
        while run.poll() is None and not list(root.glob("*/.runs/*/run.json")):
            time.sleep(0.01)
        while run.poll() is None:
            for pid in [run.pid, *descendants(run.pid)]:
                try:
                    titles.setdefault(pid, set()).add(Path(f"/proc/{pid}/cmdline").read_bytes())
                except OSError:
                    continue  # ended between the listing and the read
            time.sleep(0.05)
        out, err = run.communicate()
    assert run.returncode == 0, err.decode()[-3000:]
    [workers] = list(root.glob("*/.runs/*/workers.json"))
    pids = [w["pid"] for w in json.loads(workers.read_text())]
    assert len(pids) == 2 and set(pids) <= set(titles)  # each worker's title was read while it ran
    seen = [title for found in titles.values() for title in found]
    assert [t for t in seen if PASSWORD.encode() in t] == []
    assert any(b"--redis redis://***@127.0.0.1:" in t for t in titles[run.pid])
    assert all(any(t.startswith(b"paperset worker --name ") for t in titles[pid]) for pid in pids)
    assert PASSWORD.encode() not in out + err
    for path in root.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path


def test_a_title_without_a_secret_is_left_alone() -> None:
    before = Path(f"/proc/{os.getpid()}/cmdline").read_bytes()
    assert hide_secrets(["paperset", "run", "--redis", "redis://127.0.0.1:6379/0"]) is False
    assert Path(f"/proc/{os.getpid()}/cmdline").read_bytes() == before
