"""Every paperset setting, spider argument and command is in the README with its default."""

from __future__ import annotations

import re

from crawler import settings

from .conftest import ROOT, run_paperset

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_paperset_setting_is_documented() -> None:
    names = [name for name in dir(settings) if name.startswith("PAPERSET_")]
    assert len(names) >= 15
    missing = [name for name in names if f"`{name}`" not in README and not re.search(rf"`{name}`|{name}`", README)]
    assert missing == []


def test_every_command_is_documented() -> None:
    result = run_paperset("--help")
    commands = re.search(r"\{([a-z,]+)\}", result.stdout).group(1).split(",")
    assert sorted(commands) == ["crawl", "demo", "diff", "fixture", "package", "publish", "pull", "run", "verify", "worker"]
    for command in commands:
        assert f"paperset {command}" in README


def test_scrapy_crawl_with_spider_arguments(replica, tmp_path) -> None:
    import json
    import subprocess

    out = tmp_path / "s.jsonl"
    subprocess.run([str(ROOT / ".venv/bin/scrapy"), "crawl", "hf_papers", "-a", "day=2025-02-03,2025-02-04",
                    "-a", f"base_url={replica.base_url}", "-a", "fetch=page", "-O", f"{out}:jsonlines",
                    "-s", "AUTOTHROTTLE_ENABLED=False", "-s", f"PAPERSET_REJECTS={tmp_path / 'r.jsonl'}",
                    "-s", "LOG_LEVEL=WARNING"], cwd=ROOT, check=True, capture_output=True, timeout=120)
    entries = [json.loads(line) for line in out.read_text().splitlines()]
    expected = len(replica.site.items("day", "2025-02-03")) + len(replica.site.items("day", "2025-02-04"))
    assert len(entries) == expected
    assert {e["fetch_path"] for e in entries} == {"page"}
