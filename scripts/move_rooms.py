"""Move the code into its rooms under one `paperset` namespace (docs/architecture.md): `git mv`
each module, then rewrite every dotted name (`crawler.setting_fields`) and path (`crawler/setting_fields.py`)
in the sources, tests, docs and config. Prints the plan; `--apply` does it. Run from the repository root; run
it again on a branch made before the move (it rewrites old names only, so it is idempotent), then
`ruff check --fix .` sorts the imports."""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
from pathlib import Path

P = "paperset"
# current -> destination, modules and whole packages (a folder moves with everything in it), in order.
MOVES = {
    # the application: parsing and exit codes (cli), orchestration (app)
    "paperset/cli.py": "paperset/cli/__init__.py",
    "paperset/args.py": "paperset/cli/args.py",
    "paperset/exits.py": "paperset/app/exits.py",
    "paperset/dataset_cli.py": "paperset/cli/dataset.py",
    "paperset/fixture_cli.py": "paperset/cli/fixture.py",
    "paperset/run_command.py": "paperset/cli/run_command.py",
    "paperset/progress_display.py": "paperset/cli/progress_display.py",
    "paperset/proctitle.py": "paperset/app/proctitle.py",
    **{f"paperset/{m}.py": f"paperset/app/{m}.py" for m in (
        "archives", "contact", "crawl", "links", "local_worker", "outcome", "pandas_probe", "plan", "run",
        "run_checks", "summary", "sweep", "workers")},
    # the three libraries into the namespace
    "spool": "paperset/spool",
    "packager": "paperset/packager",
    "crawler": "paperset/crawler",
    # the crawler's rooms
    "crawler/settings.py": "paperset/crawler/settings/__init__.py",
    "crawler/setting_fields.py": "paperset/crawler/settings/fields.py",
    "crawler/setting_checks.py": "paperset/crawler/settings/checks.py",
    "crawler/kinds.py": "paperset/crawler/site/kinds.py",
    "crawler/listings.py": "paperset/crawler/site/listings.py",
    "crawler/pages/hf.py": "paperset/crawler/site/pages.py",
    "crawler/pages/paper_extras.py": "paperset/crawler/site/paper_extras.py",
    "crawler/pages/source.py": "paperset/crawler/site/source.py",
    "crawler/pages": "paperset/crawler/site",
    "crawler/items.py": "paperset/crawler/site/items.py",
    "crawler/fixture_cases.py": "paperset/crawler/site/fixture_cases.py",
    "crawler/contracts.py": "paperset/crawler/site/contracts.py",
    "crawler/handler.py": "paperset/crawler/fetch/handler.py",
    "crawler/hosts.py": "paperset/crawler/fetch/hosts.py",
    "crawler/browser.py": "paperset/crawler/fetch/browser.py",
    "crawler/politeness": "paperset/crawler/fetch/politeness",
    "crawler/archive": "paperset/crawler/fetch/archive",
    "crawler/normalize.py": "paperset/crawler/clean/normalize.py",
    "crawler/values.py": "paperset/crawler/clean/values.py",
    "crawler/rejects.py": "paperset/crawler/clean/rejects.py",
    "crawler/coverage.py": "paperset/crawler/tracking/coverage.py",
    "crawler/checkpoint.py": "paperset/crawler/tracking/done.py",
    "crawler/items_left.py": "paperset/crawler/tracking/items_left.py",
    "crawler/distributed.py": "paperset/crawler/distributed/queue.py",
    "crawler/outbox.py": "paperset/crawler/distributed/outbox.py",
    "crawler/worker_coordination.py": "paperset/crawler/distributed/worker.py",
    "crawler/redis_client.py": "paperset/crawler/distributed/redis_client.py",
    "crawler/logformat.py": "paperset/crawler/extensions/logformat.py",
    # names that collided with another module's
    "crawler/replica/handler.py": "paperset/crawler/replica/http.py",
    "packager/schema.py": "paperset/packager/tables.py",
}
# Tests mirror the rooms.
TEST_MOVES = {
    "tests/dedup": "tests/crawler/dedup",
    "tests/distributed": "tests/crawler/distributed",
    "tests/pages": "tests/crawler/site",
    "tests/pipelines": "tests/crawler/pipelines",
    **{f"tests/crawler/test_{m}.py": f"tests/crawler/{room}/test_{m}.py" for room, names in {
        "fetch": ("archive_crawl", "archive_records", "politeness", "dynamic"),
        "tracking": ("checkpoint", "items_left", "resume", "settling_rule"),
        "site": ("kinds", "listings", "fields_2026"),
        "settings": ("setting_fields",),
        "extensions": ("logformat", "shared_objects"),
        "spiders": ("crawl_replica", "spider_callbacks"),
    }.items() for m in names},
    "tests/crawler/test_contact.py": "tests/app/test_contact.py",
}
GIT = shutil.which("git") or "git"
TEXT = ("*.py", "*.md", "*.cfg", "*.toml", "*.txt", "*.sh", "Makefile", "*.yml", "*.yaml", "*.j2")
SKIP = (".venv", ".git", "node_modules", "results", "fixtures", "data", "data2026")
TOPS = ("crawler", "packager", "spool")


def final(old: str) -> str:
    """Where an old path ends up (a module inside a moved package follows the most specific move)."""
    for source in sorted(MOVES, key=len, reverse=True):
        if old == source or old.startswith(source + "/"):
            return MOVES[source] + old[len(source):]
    return old


def dotted(path: str) -> str:
    return path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def modules(root: Path, commit: str) -> list[str]:
    """Every module and package path of the tree before the move (files and folders), from git."""
    files = subprocess.run([GIT, "ls-tree", "-r", "--name-only", commit, "--", *TOPS, P], cwd=root,
                           capture_output=True, text=True, check=True).stdout.split()
    found = {f for f in files if f.endswith(".py")}
    found |= {str(Path(f).parent) for f in found}
    return sorted(found)


def tables(root: Path, commit: str) -> tuple[dict[str, str], dict[str, str]]:
    """(dotted old -> new, path old -> new), identities dropped; top-level names only as packages."""
    names: dict[str, str] = {}
    paths: dict[str, str] = {}
    for old in modules(root, commit):
        new = final(old)
        if dotted(old) != dotted(new):
            names[dotted(old)] = dotted(new)
        if old != new:
            paths[old if old.endswith(".py") else old + "/"] = new if new.endswith(".py") else new + "/"
    for old, new in TEST_MOVES.items():
        paths[old if old.endswith(".py") else old + "/"] = new if new.endswith(".py") else new + "/"
    return names, paths


def alternation(words: dict[str, str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


IMPORT = re.compile(r"^(\s*)(from|import)\s+([\w.]+)(.*)$")


def rewrite_import(line: str, names: dict[str, str]) -> str:
    end = line[len(line.rstrip("\r\n")):]
    match = IMPORT.match(line.rstrip("\r\n"))
    if not match:
        return line
    indent, word, module, rest = match.groups()
    return _import(indent, word, module, rest, names) + end


def _import(indent: str, word: str, module: str, rest: str, names: dict[str, str]) -> str:
    new = names.get(module)
    if word == "from":
        imported = re.match(r"\s+import\s+(\w+)(\s+as\s+\w+)?\s*$", rest)
        if imported and f"{module}.{imported.group(1)}" in names:  # from crawler import kinds
            target = names[f"{module}.{imported.group(1)}"]
            parent, _, last = target.rpartition(".")
            alias = imported.group(2) or ("" if last == imported.group(1) else f" as {imported.group(1)}")
            return f"{indent}from {parent} import {last}{alias}"
    if new is None:
        head = max((m for m in names if module.startswith(m + ".")), key=len, default=None)
        if head is None:
            return f"{indent}{word} {module}{rest}"
        new = names[head] + module[len(head):]
    return f"{indent}{word} {new}{rest}"


def rewrite_text(text: str, python: bool, names: dict[str, str], paths: dict[str, str]) -> str:
    path_re = re.compile(rf"(?<![\w./-])({alternation(paths)})")
    text = path_re.sub(lambda m: paths[m.group(1)], text)
    # Dotted names of submodules (crawler.kinds): anywhere but, in Python code, where `crawler.settings`
    # is Scrapy's Crawler attribute; the bare package names only in import lines.
    dotted_names = {k: v for k, v in names.items() if "." in k}
    name_re = re.compile(rf"(?<![\w./-])({alternation(dotted_names)})(?![\w])")
    out = []
    for line in text.splitlines(keepends=True):
        if python and IMPORT.match(line):
            out.append(rewrite_import(line, names))
            continue

        def one(m: re.Match[str], line: str = line) -> str:
            old = m.group(1)
            if python and old == "crawler.settings" and line[max(0, m.start() - 1):m.start()] not in "\"'`":
                return old
            return dotted_names[old]
        out.append(name_re.sub(one, line))
    return "".join(out)


def relative_tests(text: str) -> str:
    """A test's `from ..conftest import` (relative to tests/) as an absolute import, whatever its depth."""
    return re.sub(r"^(\s*)from \.\.(\w+) import", r"\1from tests.\2 import", text, flags=re.M)


def rewrite(root: Path, names: dict[str, str], paths: dict[str, str]) -> int:
    changed = 0
    for pattern in TEXT:
        for path in root.rglob(pattern):
            rel = path.relative_to(root)
            if any(part in SKIP for part in rel.parts[:-1]) or not path.is_file():
                continue
            if str(rel) == "scripts/move_rooms.py":
                continue
            text = path.read_text(encoding="utf-8")
            new = rewrite_text(text, path.suffix == ".py", names, paths)
            if rel.parts[0] == "tests" and path.suffix == ".py":
                new = relative_tests(new)
            if new != text:
                changed += 1
                path.write_text(new, encoding="utf-8")
    return changed


def git_mv(root: Path, old: str, new: str) -> None:
    if not (root / old).exists():
        return
    target = root / new
    if target.exists() and target.is_dir() and (root / old).is_dir():  # merge a folder into an existing one
        for child in sorted((root / old).iterdir()):
            git_mv(root, str(Path(old) / child.name), str(Path(new) / child.name))
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([GIT, "mv", old, new], cwd=root, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--apply", action="store_true", help="move and rewrite (default: print the plan)")
    parser.add_argument("--rewrite-only", metavar="COMMIT",
                        help="only rewrite the old names (code merged from a branch made before the move at COMMIT)")
    args = parser.parse_args()
    root = Path.cwd()
    names, paths = tables(root, args.rewrite_only or "HEAD")
    if not args.apply and not args.rewrite_only:
        for old, new in {**MOVES, **TEST_MOVES}.items():
            print(f"git mv {old} {new}")
        return
    if args.apply:
        ordered = [k for k in MOVES if k.startswith(f"{P}/")] + list(TOPS)
        for old in ordered:
            git_mv(root, old, MOVES[old])
        inner = {k: v for k, v in MOVES.items() if k.split("/")[0] in TOPS and "/" in k}
        for old, new in inner.items():
            git_mv(root, final(old.split("/")[0]) + old[len(old.split("/")[0]):], new)
        for old, new in TEST_MOVES.items():
            git_mv(root, old, new)
        for init in ("paperset/app", "paperset/crawler/settings", "paperset/crawler/site", "paperset/crawler/fetch",
                     "paperset/crawler/clean", "paperset/crawler/tracking", "paperset/crawler/distributed",
                     "paperset/crawler/extensions", *{str(Path(v).parent) for v in TEST_MOVES.values()}):
            if not (root / init / "__init__.py").exists():
                (root / init).mkdir(parents=True, exist_ok=True)
                room = init.replace("/", ".")
                (root / init / "__init__.py").write_text(f'"""`{room}` (docs/architecture.md)."""\n', encoding="utf-8")
                subprocess.run([GIT, "add", f"{init}/__init__.py"], cwd=root, check=True)
    print(f"{rewrite(root, names, paths)} files rewritten")
    main_module = root / P / "cli" / "__main__.py"
    if args.apply and not main_module.exists():
        main_module.write_text('"""`python -m paperset.cli`: the command line, as the `paperset` script runs it."""\n\n'
                               "import sys\n\nfrom paperset.cli import main\n\nsys.exit(main())\n", encoding="utf-8")
        subprocess.run([GIT, "add", str(main_module)], cwd=root, check=True)
    if args.apply:
        project = root / "pyproject.toml"
        project.write_text(project.read_text(encoding="utf-8").replace(
            'include = ["crawler*", "packager*", "paperset*", "spool*"]', 'include = ["paperset*"]'), encoding="utf-8")
        for empty in (root / P / "crawler" / "pages",):
            if empty.is_dir() and not any(empty.iterdir()):
                empty.rmdir()


if __name__ == "__main__":
    main()
