"""An honest identity, end to end: the card and the crawl name no invented address; a home in the installed
metadata (a stand-in `paperset` dist-info put first on the path) is the one they name; a crawl of a site not
on this machine without PAPERSET_CONTACT warns once, naming the setting."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import ROOT, corpus_spool, last_json

pytestmark = pytest.mark.slow  # packages and crawls with `paperset` end to end (docs/testing.md)

HOME = "https://example.org/paperset-home"
WARNING = ("warning: crawling {base} with no operator contact: set PAPERSET_CONTACT (environment, or -s "
           "PAPERSET_CONTACT=...) to a URL or mailto: address where the site's operators can reach you; it goes into "
           "the User-Agent")


def paperset(*args: str, home_in_metadata: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PAPERSET_CONTACT", "PYTHONPATH")}
    if home_in_metadata is not None:
        info = home_in_metadata / "paperset-0.1.0.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.4\nName: paperset\nVersion: 0.1.0\n"
                                       f"Project-URL: Homepage, {HOME}\n")
        env["PYTHONPATH"] = str(home_in_metadata)
    return subprocess.run([str(ROOT / ".venv/bin/paperset"), *args], capture_output=True, text=True, timeout=300,
                          cwd=ROOT, env=env)


def card(tmp_path: Path, corpus_path: Path, name: str, home_in_metadata: Path | None = None) -> str:
    spool = corpus_spool(tmp_path / f"spool-{name}", corpus_path, 20)
    result = paperset("package", "--spool", str(spool), "--out", str(tmp_path / "out"), "--name", name, "--json",
                      home_in_metadata=home_in_metadata)
    assert result.returncode == 0, result.stderr
    return (Path(last_json(result.stdout)["path"]) / "README.md").read_text()


def test_the_card_names_the_home_only_when_the_metadata_does(tmp_path, corpus_path) -> None:
    plain = card(tmp_path, corpus_path, "plain")
    assert "github.com" not in plain and HOME not in plain
    assert "GitHub stars. Collected by paperset\nfrom " in plain
    assert "discussions) of the dataset's\nrepository on the Hub.\n" in plain
    homed = card(tmp_path, corpus_path, "homed", home_in_metadata=tmp_path / "meta")
    assert f"GitHub stars. Collected by [paperset]({HOME})\nfrom " in homed
    assert f"repository on the Hub, or the project's home, {HOME}.\n" in homed
    assert "github.com" not in homed


def test_a_crawl_of_a_site_not_on_this_machine_warns_once(tmp_path) -> None:
    # This machine under its host name: not loopback as written, and its port 1 refuses at once.
    base = f"http://{socket.gethostname()}:1"
    crawl = paperset("crawl", "--base-url", base, "--day", "2024-01-01", "--out", str(tmp_path / "a.jsonl"))
    assert crawl.returncode == 5  # its one listing incomplete (connection refused); a run: every listing failed, 1
    warnings = [line for line in crawl.stderr.splitlines() if "operator contact" in line]
    assert warnings == [f"paperset crawl: {WARNING.format(base=base)}"]
    told = paperset("crawl", "--base-url", base, "--day", "2024-01-01", "--out", str(tmp_path / "b.jsonl"),
                    "-s", "PAPERSET_CONTACT=mailto:ops@example.org")
    assert told.returncode == 5 and "operator contact" not in told.stderr
    local = paperset("crawl", "--base-url", "http://127.0.0.1:1", "--day", "2024-01-01", "--out",
                     str(tmp_path / "c.jsonl"))
    assert local.returncode == 5 and "operator contact" not in local.stderr
    run = paperset("run", "--base-url", base, "--day", "2024-01-01", "--out", str(tmp_path / "data"), "--name", "ds",
                   "--yes")
    assert run.returncode == 1
    assert [line for line in run.stderr.splitlines() if "operator contact" in line] == [
        f"paperset run: {WARNING.format(base=base)}"]


def agents_seen(tmp_path: Path, home_in_metadata: Path | None) -> set[str]:
    """The User-Agents of a crawl's requests, as a server on loopback receives them (it answers 404)."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            seen.append(self.headers.get("User-Agent", ""))
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        paperset("crawl", "--base-url", f"http://127.0.0.1:{server.server_address[1]}", "--day", "2024-01-01",
                 "--out", str(tmp_path / "crawl.jsonl"), home_in_metadata=home_in_metadata)
    finally:
        server.shutdown()
        server.server_close()
    assert seen
    return set(seen)


def test_the_user_agent_names_the_home_only_when_the_metadata_does(tmp_path) -> None:
    assert agents_seen(tmp_path / "plain", None) == {"paperset/0.1"}
    assert agents_seen(tmp_path / "homed", tmp_path / "meta") == {f"paperset/0.1 (+{HOME})"}
