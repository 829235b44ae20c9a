"""The layering, held by a test: which part may import which (docs/architecture.md), and no import
cycle anywhere.

The parts are packages of the one `paperset` namespace; top to bottom, a part imports only its own layer
and the ones below it:

    paperset.cli (the command line: parsing, help)
    paperset.app (orchestration: one run, workers, the plan, the outcome)
    paperset.crawler | paperset.packager (side by side: neither imports the other)
    paperset.spool (the contract between them)

`paperset` itself (its `__init__`: the version) may be imported by any. Every import statement of every
module is read with `ast` (also the ones inside functions), and the dotted paths the Scrapy settings name
(pipelines, middlewares, extensions), which Scrapy imports for the crawler."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from .conftest import PARTS, ROOT

THIRD_PARTY_SCRAPY = ("scrapy", "scrapy_playwright", "scrapy_redis", "twisted", "itemadapter", "playwright")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """The modules a file imports (absolute names; a relative import resolved against its package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else module_name(path)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def settings_paths() -> set[str]:
    """Dotted paths named by the crawler's settings (Scrapy imports them for every crawl)."""
    tree = ast.parse((ROOT / "paperset" / "crawler" / "settings" / "__init__.py").read_text(encoding="utf-8"))
    return {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and node.value.startswith("paperset.") and " " not in node.value}


def sources(part: str) -> list[Path]:
    return sorted((ROOT / part).rglob("*.py"))


def top(name: str) -> str:
    """The part (`paperset/crawler`) a dotted name is in; `paperset` for the namespace's own `__init__`, and
    the name's first component for anything else."""
    path = name.replace(".", "/")
    return next((part for part in PARTS if path == part or path.startswith(part + "/")), name.split(".")[0])


def violations(part: str, allowed: set[str], files: list[Path] | None = None) -> list[str]:
    """`file: module` for every import of one of our parts that `part` may not reach."""
    out = []
    for path in files if files is not None else sources(part):
        for name in sorted(imports_of(path)):
            if top(name) in PARTS and top(name) not in allowed | {path_part(path)}:
                out.append(f"{path.relative_to(ROOT)}: {name}")
    return out


def path_part(path: Path) -> str:
    return top(module_name(path))


def holds_code(path: Path) -> bool:
    """Anything in the module besides its docstring and `from __future__` imports."""
    body = ast.parse(path.read_text(encoding="utf-8")).body
    return any(not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
               and not (isinstance(node, ast.ImportFrom) and node.module == "__future__") for node in body)


def import_graph(root: Path) -> dict[str, set[str]]:
    """Each of our modules -> the modules of ours it imports (any import: top level, in a function, under
    TYPE_CHECKING), a name resolved to the longest module it names (`paperset.crawler.site.listings.Listing` ->
    `paperset.crawler.site.listings`). A package's `__init__` is a node when it holds code (the command
    line's `main`, the settings): importing a package that is only a docstring is no edge."""
    modules = {module_name(p): p for p in sorted((root / "paperset").rglob("*.py"))
               if p.name != "__init__.py" or holds_code(p)}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found = set()
        for imported in imports_of(path):
            parts = imported.split(".")
            for end in range(len(parts), 0, -1):
                target = ".".join(parts[:end])
                if target in modules:
                    found.add(target)
                    break
        graph[name] = found - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles: each strongly connected group of more than one module, sorted (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(out)


def test_no_import_cycle_anywhere() -> None:
    """Not even through an import inside a function (the forked worker re-entering the command line) or
    one for type checking only (the replica's server and handler)."""
    assert cycles(import_graph(ROOT)) == []


def test_the_cycle_check_finds_a_cycle_through_a_function(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    (tmp_path / "paperset").mkdir()
    (tmp_path / "paperset" / "a.py").write_text("from paperset.b import f\n", encoding="utf-8")
    (tmp_path / "paperset" / "b.py").write_text("def f():\n    from paperset import c\n", encoding="utf-8")
    (tmp_path / "paperset" / "c.py").write_text("import paperset.a\n", encoding="utf-8")
    (tmp_path / "paperset" / "d.py").write_text("import paperset.a\n", encoding="utf-8")
    assert cycles(import_graph(tmp_path)) == [["paperset.a", "paperset.b", "paperset.c"]]


def test_the_cycle_check_sees_a_cycle_through_a_package_that_holds_code(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The forked worker re-entering the command line: `paperset.cli` is a package whose `__init__` holds `main`."""
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    (tmp_path / "paperset" / "cli").mkdir(parents=True)
    (tmp_path / "paperset" / "app").mkdir()
    (tmp_path / "paperset" / "app" / "__init__.py").write_text('"""Orchestration."""\n', encoding="utf-8")
    (tmp_path / "paperset" / "cli" / "__init__.py").write_text("from paperset.app.workers import run\n",
                                                               encoding="utf-8")
    (tmp_path / "paperset" / "app" / "workers.py").write_text("def run():\n    from paperset.cli import main\n",
                                                              encoding="utf-8")
    assert cycles(import_graph(tmp_path)) == [["paperset.app.workers", "paperset.cli"]]


def test_every_module_belongs_to_a_part() -> None:
    """One package at the top (no `crawler` or `spool` of ours to collide with another distribution's), and
    every module of it in a part but the namespace's own `__init__`."""
    assert sorted(p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()) == ["paperset", "tests"]
    loose = [str(p.relative_to(ROOT)) for p in (ROOT / "paperset").rglob("*.py")
             if not any(str(p.relative_to(ROOT)).startswith(part + "/") for part in PARTS)]
    assert loose == ["paperset/__init__.py"]


LAYERS = {
    "paperset/spool": set(),
    "paperset/crawler": {"paperset/spool"},
    "paperset/packager": {"paperset/spool"},
    "paperset/app": {"paperset/crawler", "paperset/packager", "paperset/spool"},
    "paperset/cli": {"paperset/app", "paperset/crawler", "paperset/packager", "paperset/spool"},
}


@pytest.mark.parametrize("part", PARTS)
def test_each_part_imports_only_the_layers_below_it(part: str) -> None:
    assert violations(part, LAYERS[part]) == []


def test_the_crawlers_settings_name_only_the_crawlers_components() -> None:
    assert sorted(p for p in settings_paths() if top(p) != "paperset/crawler") == []


def test_only_the_application_imports_crawler_and_packager_together() -> None:
    both = []
    for part in PARTS:
        for path in sources(part):
            tops = {top(n) for n in imports_of(path)}
            if {"paperset/crawler", "paperset/packager"} <= tops:
                both.append(path_part(path))
    assert both
    assert sorted(set(both) - {"paperset/app", "paperset/cli"}) == []


def test_pages_import_no_spiders_and_no_pipelines() -> None:
    bad = [f"{module_name(p)}: {n}" for p in sources("paperset/crawler/site") for n in imports_of(p)
           if n.startswith(("paperset.crawler.spiders", "paperset.crawler.pipelines"))]
    assert bad == []


def test_dedup_imports_no_scrapy() -> None:
    bad = [f"{module_name(p)}: {n}" for p in sources("paperset/crawler/dedup") for n in imports_of(p)
           if top(n) in THIRD_PARTY_SCRAPY]
    assert bad == []


def test_normalize_is_pure() -> None:
    """normalize.py imports only the standard library: no engine, no I/O client, no other part."""
    names = {n.split(".")[0] for n in imports_of(ROOT / "paperset" / "crawler" / "clean" / "normalize.py")}
    names -= {"__future__"}
    assert sorted(n for n in names if n not in sys.stdlib_module_names) == []


@pytest.mark.parametrize(("source", "expected"), [
    ("from paperset.packager.fold import fold\n", ["paperset/crawler/bad.py: paperset.packager.fold",
                                                  "paperset/crawler/bad.py: paperset.packager.fold.fold"]),
    ("def f():\n    import paperset.cli\n", ["paperset/crawler/bad.py: paperset.cli"]),
    ("from .items import PaperEntry\n", []),
    ("from paperset.crawler.site.items import PaperEntry\nfrom paperset.spool.schema import ENTRY\n", []),
])
def test_the_contract_catches_a_wrong_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str,
                                             expected: list[str]) -> None:
    """The checker itself: an import the wrong way, also inside a function, is named; the right ones not."""
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    (tmp_path / "paperset" / "crawler").mkdir(parents=True)
    bad = tmp_path / "paperset" / "crawler" / "bad.py"
    bad.write_text(source, encoding="utf-8")
    assert violations("paperset/crawler", LAYERS["paperset/crawler"]) == expected
