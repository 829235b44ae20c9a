"""`paperset publish` sends only the files the Hub does not hold yet (#25): a night's commit carries the
files its version did not inherit, the rest stay on the Hub from the parent's commit."""

from __future__ import annotations

import base64
import json

import pytest

from .conftest import files_of, paperset, posts
from .test_sharing import two_versions

pytestmark = pytest.mark.slow  # runs `paperset publish` end to end, seconds a test (docs/testing.md)

REPO = "someone/papers"
TARGET = f"hf://datasets/{REPO}"


def sent_bytes(body: bytes) -> int:
    """The bytes of file content a commit request carried (the NDJSON's base64 file lines, decoded size)."""
    lines = [json.loads(line) for line in body.splitlines() if line.strip()]
    return sum(len(base64.b64decode(line["value"]["content"])) for line in lines if line.get("key") == "file")


def test_a_night_uploads_only_what_the_hub_does_not_hold(tmp_path, hub) -> None:
    _, first, second = two_versions(tmp_path, [("2601.00001", "New paper", "2026-01-01")])
    home = tmp_path / "home"
    assert paperset(hub, home, "publish", str(first), TARGET, "--upload").returncode == 0
    listed = json.loads((second / "manifest.json").read_text())["files"]
    new = sorted({*(n for n, e in listed.items() if not e.get("inherited")), "manifest.json"})
    dry = paperset(hub, home, "publish", str(second), TARGET)
    assert dry.returncode == 0, dry.stderr
    held = len(listed) + 1 - len(new)
    assert dry.stdout.splitlines()[-2] == f"  {held} files the Hub already holds would not be sent"
    up = paperset(hub, home, "publish", str(second), TARGET, "--upload")
    assert up.returncode == 0, up.stderr
    repo = hub.repos[REPO]
    assert repo.head.added == new
    assert repo.head.files == {".gitattributes": repo.commits[0].files[".gitattributes"], **files_of(second)}
    size = sum((second / n).stat().st_size for n in new)
    assert up.stdout.splitlines()[-1] == (f"  {held} files the Hub already held were not sent; "
                                          f"{size:,} bytes sent")
    assert sent_bytes(posts(hub, "commit/")[-1]["body"]) == size
    assert size < sum(p.stat().st_size for p in second.rglob("*") if p.is_file())
