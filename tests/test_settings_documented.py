"""Every paperset setting is in docs/ with its default; every command is in the README."""

from __future__ import annotations

import re

from paperset.crawler import settings

from .conftest import PARTS, ROOT, run_paperset

README = (ROOT / "README.md").read_text(encoding="utf-8")
# The reference the README links to: every setting is documented there.
DOCS = "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs").glob("*.md")))


# Read from the environment, not from Scrapy settings: documented in docs/settings.md's own table.
ENVIRONMENT = {"PAPERSET_CHROMIUM", "PAPERSET_REDIS_URL"}
# A whole name: not a prefix completed by code (`f"PAPERSET_DEDUPE_{name}"`).
NAME = re.compile(r"\bPAPERSET_[A-Z0-9_]*[A-Z0-9]\b(?![_{])")
# The settings' defaults (Scrapy's settings module of the project).
SETTINGS = ROOT / "paperset" / "crawler" / "settings" / "__init__.py"


def names_read_in_code() -> set[str]:
    """Every PAPERSET_ name that appears in the installed package's code, the settings' defaults aside."""
    found: set[str] = set()
    for path in (ROOT / "paperset").rglob("*.py"):
        if path != SETTINGS:
            found.update(NAME.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_paperset_name_read_anywhere_has_a_default_and_documentation() -> None:
    read = names_read_in_code()
    assert {"PAPERSET_NORMALIZE_ENABLED", "PAPERSET_REDIS_NAME", "PAPERSET_DEDUPE_BANDS"} <= read
    without_default = sorted(read - ENVIRONMENT - {n for n in dir(settings) if n.startswith("PAPERSET_")})
    assert without_default == []
    undocumented = sorted(n for n in read | ENVIRONMENT if not re.search(rf"`{n}`", DOCS))
    assert undocumented == []


def test_every_paperset_setting_is_documented() -> None:
    names = [name for name in dir(settings) if name.startswith("PAPERSET_")]
    assert len(names) >= 15
    missing = [name for name in names if not re.search(rf"`{name}`|{name}`", DOCS)]
    assert missing == []


def test_every_command_is_documented() -> None:
    result = run_paperset("--help")
    commands = re.search(r"\{([a-z,]+)\}", result.stdout).group(1).split(",")
    assert sorted(commands) == ["crawl", "demo", "diff", "fixture", "package", "prune", "publish", "pull", "run",
                                "verify", "worker"]
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


def test_no_paperset_setting_is_read_with_a_default_of_its_own() -> None:
    """Defaults live in paperset.crawler.settings only: `settings.getint("PAPERSET_X", 50)` repeats one."""
    inline = re.compile(r"\.get(?:int|float|bool|list|dict)?\(\s*\"(PAPERSET_[A-Z0-9_]+)\"\s*,")
    code = [path for part in PARTS for path in (ROOT / part).rglob("*.py")]
    found = sorted(f"{path.relative_to(ROOT)}: {name}" for path in code
                   for name in inline.findall(path.read_text(encoding="utf-8")))
    assert found == []


def _settings_doc():
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("settings_doc", ROOT / "scripts" / "settings_doc.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["settings_doc"] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_docs_settings_is_generated_from_the_settings_module() -> None:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "settings_doc.py"), "--check"], capture_output=True,
                         text=True, timeout=60, check=False)
    assert (out.returncode, out.stderr) == (0, "")


def test_settings_doc_names_a_new_setting_and_refuses_one_without_a_comment() -> None:
    doc = _settings_doc()
    source = SETTINGS.read_text(encoding="utf-8")
    assert doc.undocumented(source + "\nPAPERSET_NEW = 3\n") == ["PAPERSET_NEW"]
    text = doc.render(source + "\n# --- more ---\n# A new one.\nPAPERSET_NEW = 3\nPAPERSET_NEWER = 'x'\n")
    assert "## More\n\n| setting | default | type and range | meaning |\n|---|---|---|---|\n" \
           "| `PAPERSET_NEW` | `3` |  | A new one. |\n| `PAPERSET_NEWER` | `'x'` |  | with the one above |\n" in text
    assert text != (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
