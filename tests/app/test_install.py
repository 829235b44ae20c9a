"""paperset installed with `pip install` into a fresh venv works from any folder, not only the checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import ROOT, last_json

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the repository installed by `pip install` (not editable), from a copy of the
    package sources: the bin folder of that venv."""
    base = tmp_path_factory.mktemp("install")
    src = base / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "paperset", src / "paperset", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run([str(venv / "bin/pip"), "install", "--quiet", "--disable-pip-version-check", str(src)],
                         capture_output=True, text=True, timeout=900)
    assert pip.returncode == 0, pip.stderr[-4000:]
    return venv / "bin"


# The environment without a PYTHONPATH: the installed copy must not see the checkout's sources.
CLEAN_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def paperset(bin_dir: Path, cwd: Path, *args: str, env: dict[str, str] | None = None,
             timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """The installed `paperset`, run from `cwd` (an empty folder outside the checkout)."""
    return subprocess.run([str(bin_dir / "paperset"), *args], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout, env={**CLEAN_ENV, **(env or {})})


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    assert not (folder / "scrapy.cfg").exists()
    return folder


def test_version(installed: Path, elsewhere: Path) -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    result = paperset(installed, elsewhere, "--version")
    assert (result.returncode, result.stdout) == (0, f"paperset {version}\n")


def test_installed_copy_is_not_the_checkout(installed: Path, elsewhere: Path) -> None:
    code = ("import paperset.crawler, paperset.packager, paperset.spool; "
            "print(paperset.crawler.__file__, paperset.packager.__file__, paperset.spool.__file__)")
    out = subprocess.run([str(installed / "python"), "-c", code], capture_output=True, text=True, cwd=elsewhere,
                         env=CLEAN_ENV, check=True).stdout.split()
    assert len(out) == 3
    assert all("site-packages" in path and not path.startswith(str(ROOT)) for path in out)
    # One top-level name of ours in site-packages: no generic `crawler` or `spool` to collide with another's.
    probe = "import importlib.util as u; print([n for n in ('crawler', 'packager', 'spool') if u.find_spec(n)])"
    found = subprocess.run([str(installed / "python"), "-c", probe], capture_output=True, text=True, cwd=elsewhere,
                           env=CLEAN_ENV, check=True).stdout
    assert found == "[]\n"


def test_demo_from_another_folder(installed: Path, elsewhere: Path) -> None:
    result = paperset(installed, elsewhere, "demo", "--json")
    assert result.returncode == 0, result.stderr[-4000:]
    outcome = last_json(result.stdout)
    assert outcome["changed"] is True and outcome["verified"] is True
    dataset = elsewhere / "out/demo/datasets/hf-papers"
    assert (dataset / "LATEST").read_text(encoding="utf-8").strip() == outcome["version"]
    assert (dataset / outcome["version"] / "papers").is_dir()
    assert outcome["papers"] == outcome["crawl"]["papers"] > 800


def test_run_crawl_and_plan_from_another_folder(installed: Path, elsewhere: Path, replica) -> None:
    days = replica.index["days"][:2]
    flags = [arg for day in days for arg in ("--day", day)] + ["--base-url", replica.base_url]
    run = paperset(installed, elsewhere, "run", *flags, "--out", "datasets", "--json")
    assert run.returncode == 0, run.stderr[-4000:]
    outcome = last_json(run.stdout)
    version = elsewhere / "datasets/hf-papers" / outcome["version"]
    assert outcome["changed"] is True and version.is_dir()
    assert (elsewhere / "datasets/hf-papers/LATEST").read_text(encoding="utf-8") == outcome["version"] + "\n"
    assert paperset(installed, elsewhere, "verify", str(version)).returncode == 0

    crawl = paperset(installed, elsewhere, "crawl", *flags, "--out", "entries.jsonl", "--json")
    assert crawl.returncode == 0, crawl.stderr[-4000:]
    lines = (elsewhere / "entries.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == last_json(crawl.stdout)["entries_kept"] == outcome["crawl"]["entries_kept"] > 0

    plan = paperset(installed, elsewhere, "run", *flags, "--out", "datasets", "--plan", "--json")
    assert plan.returncode == 0, plan.stderr[-4000:]
    # The same plan as the checkout's own paperset, run from the checkout (where scrapy.cfg is).
    here = subprocess.run([str(ROOT / ".venv/bin/paperset"), "run", *flags, "--out", str(elsewhere / "datasets"),
                           "--plan", "--json"], capture_output=True, text=True, cwd=ROOT, check=True)
    assert last_json(plan.stdout) == last_json(here.stdout)
    assert last_json(plan.stdout)["counts"]["api"] == len(days)


class _Hub(BaseHTTPRequestHandler):
    """Records what huggingface_hub asks, answers 500 to all of it."""

    seen: list[tuple[str, str, str]] = []

    def _answer(self) -> None:
        self.seen.append((self.command, self.path, self.headers.get("User-Agent", "")))
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = b'{"error": "stub hub"}'
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def stub_hub() -> Iterator[str]:
    _Hub.seen.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_publish_upload_reaches_the_hub_client(installed: Path, elsewhere: Path, replica, stub_hub: str) -> None:
    day = replica.index["days"][0]
    run = paperset(installed, elsewhere, "run", "--day", day, "--base-url", replica.base_url, "--out", "ds",
                   "--json")
    assert run.returncode == 0, run.stderr[-4000:]
    version = elsewhere / "ds/hf-papers" / last_json(run.stdout)["version"]
    env = {"HF_ENDPOINT": stub_hub, "HF_TOKEN": "hf_test_token_not_real", "HF_HUB_DISABLE_TELEMETRY": "1",
           "HF_HUB_ETAG_TIMEOUT": "5", "HF_HUB_DOWNLOAD_TIMEOUT": "5"}
    result = paperset(installed, elsewhere, "publish", str(version), "--to", "hf://datasets/someone/papers",
                      "--upload", env=env)
    # huggingface_hub is installed with paperset: the upload starts (and fails on the stub's 500).
    assert "ModuleNotFoundError" not in result.stderr
    assert result.returncode == 1
    assert result.stderr.startswith("paperset publish: ") and len(result.stderr.splitlines()) == 1, result.stderr
    # The first call asks the Hub about the dataset repo (what it holds: the parent check).
    assert _Hub.seen[0][1].startswith("/api/datasets/someone/papers")
    assert "hf_hub/" in _Hub.seen[0][2]
