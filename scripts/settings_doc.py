#!/usr/bin/env python3
"""Write docs/settings.md from paperset/crawler/settings/__init__.py and paperset/crawler/settings/fields.py: every setting with its
default, the comment above it, and its declared type and range (what `-s` is checked against), so the
reference cannot drift from the defaults or the checks. `--check` exits 1 when the file is stale (a test
runs it); without it the file is rewritten."""

from __future__ import annotations

import argparse
import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere: the project's own packages first
    sys.path.insert(0, str(ROOT))

from paperset.crawler.settings.fields import SPECS  # noqa: E402 - after the path is set

SETTINGS = ROOT / "paperset" / "crawler" / "settings" / "__init__.py"
DOC = ROOT / "docs" / "settings.md"

HEADER = """\
# Settings

<!-- Generated from paperset/crawler/settings/__init__.py (defaults, comments) and paperset/crawler/settings/fields.py (types and
     ranges) by scripts/settings_doc.py: edit them, then run
     `python scripts/settings_doc.py`. tests/test_settings_documented.py fails when this file is stale. -->

Every default lives in `paperset/crawler/settings/__init__.py` and nowhere else; paperset's own settings are prefixed
`PAPERSET_`. Give any of them to a command with `-s NAME=VALUE` (checked for type and range before
anything runs: a value outside its type and range is exit 2 naming the setting), or set them in your own
Scrapy settings module.
"""

ENVIRONMENT = """\
## Environment variables

Read from the environment, not from Scrapy settings:

| variable | default | meaning |
|---|---|---|
| `PAPERSET_CONTACT` | unset | the contact put into the `User-Agent` (a scheduler's environment is where an operator puts it; `-s PAPERSET_CONTACT=...` wins); unset, `paperset crawl` and `paperset run` of a site not on this machine warn once |
| `PAPERSET_CHROMIUM` | unset | the Chromium executable to use (else `chromium` on the PATH, else Playwright's own download) |
| `PAPERSET_REDIS_URL` | unset | the Redis of `worker`, and of `run --workers N`, when `--redis` is not given: the way to give a password (the environment is not in the process list; a `--redis` URL is shown as `redis://***@host` there, docs/distributed.md); without `--redis` or `--workers` a run stays in one process |
"""


@dataclass
class Group:
    """Settings assigned one after the other under one comment."""

    names: list[str] = field(default_factory=list)
    defaults: list[str] = field(default_factory=list)
    comment: str = ""


@dataclass
class Section:
    title: str
    groups: list[Group] = field(default_factory=list)


def comment_above(lines: list[str], lineno: int) -> str:
    """The comment lines right above line `lineno` (1-based), joined; empty if none."""
    out: list[str] = []
    i = lineno - 2
    while i >= 0 and lines[i].lstrip().startswith("#") and not lines[i].lstrip().startswith("# ---"):
        out.insert(0, lines[i].strip().lstrip("#").strip())
        i -= 1
    return " ".join(out)


def sections(source: str) -> list[Section]:
    """The settings module's assignments in order, grouped by `# --- title ---` lines and by comment."""
    lines = source.splitlines()
    tree = ast.parse(source)
    found: list[Section] = [Section("General")]
    titles = {i + 1: line.strip("# -") for i, line in enumerate(lines) if line.startswith("# ---")}
    last_end = 0
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
        if not isinstance(target, ast.Name) or node.value is None or not target.id.isupper():
            continue
        for title_line in sorted(t for t in titles if last_end < t < node.lineno):
            found.append(Section(titles[title_line]))
        comment = comment_above(lines, node.lineno)
        section = found[-1]
        if comment or not section.groups or node.lineno != last_end + 1:
            section.groups.append(Group(comment=comment))
        section.groups[-1].names.append(target.id)
        section.groups[-1].defaults.append(ast.unparse(node.value))
        last_end = node.end_lineno or node.lineno
    return [s for s in found if s.groups]


def cell(text: str) -> str:
    return text.replace("|", "\\|")


def rows(groups: list[Group]) -> list[str]:
    """One table row per setting; the later settings of a group point to the comment they share."""
    def meaning(group: Group, i: int) -> str:
        return cell(group.comment) if i == 0 else ("with the one above" if group.comment else "")

    return [f"| `{name}` | `{cell(default)}` | {cell(SPECS[name].describe()) if name in SPECS else ''} | "
            f"{meaning(g, i)} |"
            for g in groups for i, (name, default) in enumerate(zip(g.names, g.defaults, strict=True))]


def render(source: str | None = None) -> str:
    """docs/settings.md for this settings module."""
    parts = [HEADER]
    for section in sections(source if source is not None else SETTINGS.read_text(encoding="utf-8")):
        ours = [g for g in section.groups if g.names[0].startswith("PAPERSET_")]
        scrapy = [g for g in section.groups if not g.names[0].startswith("PAPERSET_")]
        parts.append(f"## {section.title[:1].upper()}{section.title[1:]}\n")
        if ours:
            parts.append("| setting | default | type and range | meaning |\n|---|---|---|---|")
            parts.extend(rows(ours))
            parts.append("")
        if scrapy:
            parts.append("Scrapy's own settings, as paperset sets them:\n")
            parts.append("| setting | value | type and range | why |\n|---|---|---|---|")
            parts.extend(rows(scrapy))
            parts.append("")
    parts.append(ENVIRONMENT)
    return "\n".join(parts)


def undocumented(source: str | None = None) -> list[str]:
    """paperset settings with no comment to say what they are for."""
    return [n for s in sections(source if source is not None else SETTINGS.read_text(encoding="utf-8"))
            for g in s.groups if not g.comment for n in g.names if n.startswith("PAPERSET_")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/settings.md is stale")
    args = parser.parse_args(argv)
    missing = undocumented()
    if missing:
        print(f"settings without a comment in paperset/crawler/settings/__init__.py: {', '.join(missing)}", file=sys.stderr)
        return 1
    text = render()
    if args.check:
        if DOC.read_text(encoding="utf-8") != text:
            print("docs/settings.md is stale: run python scripts/settings_doc.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
