"""Move the crawler's loose modules into rooms (docs/architecture.md, "The crawler's rooms"): `git mv` each
module, then rewrite every dotted name (`crawler.setting_fields`) and path (`crawler/setting_fields.py`) in
the sources, tests, docs and config. Prints the plan; `--apply` does it (in a clean worktree, after the
open branches merged). Run from the repository root; then `ruff check --fix .` sorts the imports and
`ruff check .` names the few lines the longer names made too long. Tried on a copy of the tree at #27: the
move and rewrite touched 102 files, and the import contract, house, seams, kinds, replica-crawl, pages,
settings-documented and layout tests passed after it but for one line made too long."""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
from pathlib import Path

# current -> destination, modules and whole packages (a folder moves with everything in it).
MOVES = {
    "crawler/settings.py": "crawler/settings/__init__.py",
    "crawler/setting_fields.py": "crawler/settings/fields.py",
    "crawler/setting_checks.py": "crawler/settings/checks.py",
    "crawler/kinds.py": "crawler/site/kinds.py",
    "crawler/listings.py": "crawler/site/listings.py",
    "crawler/pages/hf.py": "crawler/site/pages.py",
    "crawler/items.py": "crawler/site/items.py",
    "crawler/fixture_cases.py": "crawler/site/fixture_cases.py",
    "crawler/contracts.py": "crawler/site/contracts.py",
    "crawler/handler.py": "crawler/fetch/handler.py",
    "crawler/hosts.py": "crawler/fetch/hosts.py",
    "crawler/browser.py": "crawler/fetch/browser.py",
    "crawler/politeness": "crawler/fetch/politeness",
    "crawler/archive": "crawler/fetch/archive",
    "crawler/normalize.py": "crawler/clean/normalize.py",
    "crawler/values.py": "crawler/clean/values.py",
    "crawler/rejects.py": "crawler/clean/rejects.py",
    "crawler/coverage.py": "crawler/tracking/coverage.py",
    "crawler/checkpoint.py": "crawler/tracking/done.py",
    "crawler/items_left.py": "crawler/tracking/items_left.py",
    "crawler/distributed.py": "crawler/distributed/queue.py",
    "crawler/outbox.py": "crawler/distributed/outbox.py",
    "crawler/worker_coordination.py": "crawler/distributed/worker.py",
    "crawler/redis_client.py": "crawler/distributed/redis_client.py",
    "crawler/logformat.py": "crawler/extensions/logformat.py",
}
GIT = shutil.which("git") or "git"
# Files whose text names modules: rewritten after the moves.
TEXT = ("*.py", "*.md", "*.cfg", "*.toml", "*.txt", "Makefile")
SKIP = (".venv", ".git", "node_modules")


def dotted(path: str) -> str:
    """`crawler/settings/__init__.py` -> `crawler.settings`; a folder -> its package name."""
    name = path.removesuffix(".py").removesuffix("/__init__")
    return name.replace("/", ".")


def joined(path: str) -> str:
    """`crawler/settings.py` as pathlib code writes it: `"crawler" / "settings.py"`."""
    return " / ".join(f'"{part}"' for part in path.split("/"))


def renames() -> tuple[re.Pattern[str], dict[str, str]]:
    """One pattern of every old dotted name and path (the longest first), and what each becomes: applied in
    one pass, so a new name is never rewritten again (`crawler.distributed` is also a new room's prefix)."""
    table: dict[str, str] = {}
    for old, new in MOVES.items():
        table[dotted(old)] = dotted(new)
        table[old if old.endswith(".py") else old + "/"] = new if old.endswith(".py") else new + "/"
        if old.endswith(".py"):  # a path written with pathlib: ROOT / "crawler" / "settings.py"
            table[joined(old)] = joined(new)
    table = {old: new for old, new in table.items() if old != new}
    names = "|".join(re.escape(old) for old in sorted(table, key=len, reverse=True))
    return re.compile(rf"(?<![\w./])({names})(?![\w])"), table


def new_packages() -> list[Path]:
    """The rooms' folders that need an `__init__.py`."""
    folders = {Path(new).parent for new in MOVES.values()} | {Path(new) for new in MOVES.values() if "." not in new}
    return sorted(f for f in folders if f != Path("crawler") and not (f / "__init__.py").exists())


def rewrite(root: Path, rules: tuple[re.Pattern[str], dict[str, str]], apply: bool) -> int:
    """Rewrite every text file; the number of files changed."""
    changed = 0
    names, table = rules
    for pattern in TEXT:
        for path in root.rglob(pattern):
            if any(part in SKIP for part in path.parts):
                continue
            text = path.read_text(encoding="utf-8")
            new = names.sub(lambda match: table[match.group(1)], text)
            if new != text:
                changed += 1
                if apply:
                    path.write_text(new, encoding="utf-8")
    return changed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--apply", action="store_true", help="move and rewrite (default: print the plan)")
    args = parser.parse_args()
    root = Path.cwd()
    for old, new in MOVES.items():
        print(f"git mv {old} {new}")
    if args.apply:
        for folder in {Path(new).parent for new in MOVES.values()}:
            folder.mkdir(parents=True, exist_ok=True)
        settings_dir = root / "crawler" / "settings"
        if (root / "crawler" / "settings.py").exists():  # a module and its future package share a name
            subprocess.run([GIT, "mv", "crawler/settings.py", "crawler/settings_tmp.py"], check=True)
            settings_dir.mkdir(exist_ok=True)
            subprocess.run([GIT, "mv", "crawler/settings_tmp.py", "crawler/settings/__init__.py"], check=True)
        for old, new in MOVES.items():
            if (root / old).exists():
                subprocess.run([GIT, "mv", old, new], check=True)
        for folder in new_packages():
            (folder / "__init__.py").write_text(f'"""The crawler\'s `{folder.name}` room (docs/architecture.md)."""\n',
                                                encoding="utf-8")
            subprocess.run([GIT, "add", str(folder / "__init__.py")], check=True)
        for old in MOVES:  # a package left with only its __init__ (crawler/pages/) goes
            folder = (root / old).parent
            if folder != root / "crawler" and [p.name for p in folder.glob("*.py")] == ["__init__.py"]:
                subprocess.run([GIT, "rm", "-q", str(folder / "__init__.py")], check=True)
    print(f"{rewrite(root, renames(), args.apply)} files name moved modules"
          + ("" if args.apply else " (nothing changed: --apply does it)"))


if __name__ == "__main__":
    main()
