"""The layering, held by a test: which part may import which (README's map of the code).

Every import statement of every module is read with `ast` (also the ones inside functions), and the
dotted paths the Scrapy settings name (pipelines, middlewares, extensions), which Scrapy imports for the
crawler."""

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
    """Dotted paths named by crawler/settings.py's values (Scrapy imports them for every crawl)."""
    tree = ast.parse((ROOT / "crawler" / "settings.py").read_text(encoding="utf-8"))
    return {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and node.value.split(".")[0] in PARTS and "." in node.value and " " not in node.value}


def sources(part: str) -> list[Path]:
    return sorted((ROOT / part).rglob("*.py"))


def top(name: str) -> str:
    return name.split(".")[0]


def violations(part: str, allowed: set[str], files: list[Path] | None = None) -> list[str]:
    """`file: module` for every import of one of our parts that `part` may not reach."""
    out = []
    for path in files if files is not None else sources(part):
        for name in sorted(imports_of(path)):
            if top(name) in PARTS and top(name) not in allowed:
                out.append(f"{path.relative_to(ROOT)}: {name}")
    return out


def test_every_module_belongs_to_a_part() -> None:
    assert {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()} - {"tests", "bench"} == set(PARTS)


def test_spool_imports_no_other_part() -> None:
    assert violations("spool", {"spool"}) == []


def test_crawler_imports_neither_packager_nor_the_application() -> None:
    assert violations("crawler", {"crawler", "spool"}) == []
    assert sorted(p for p in settings_paths() if top(p) != "crawler") == []


def test_packager_imports_no_crawler_and_no_application() -> None:
    assert violations("packager", {"packager", "spool"}) == []


def test_only_the_application_imports_crawler_and_packager_together() -> None:
    both = []
    for part in PARTS:
        for path in sources(part):
            tops = {top(n) for n in imports_of(path)}
            if {"crawler", "packager"} <= tops:
                both.append(module_name(path))
    assert both
    assert [m for m in both if top(m) != "paperset"] == []


def test_pages_import_no_spiders_and_no_pipelines() -> None:
    bad = [f"{module_name(p)}: {n}" for p in sources("crawler/pages") for n in imports_of(p)
           if n.startswith(("crawler.spiders", "crawler.pipelines"))]
    assert bad == []


def test_dedup_imports_no_scrapy() -> None:
    bad = [f"{module_name(p)}: {n}" for p in sources("crawler/dedup") for n in imports_of(p)
           if top(n) in THIRD_PARTY_SCRAPY]
    assert bad == []


def test_normalize_is_pure() -> None:
    """normalize.py imports only the standard library: no engine, no I/O client, no other part."""
    names = {top(n) for n in imports_of(ROOT / "crawler" / "normalize.py")} - {"__future__"}
    assert sorted(n for n in names if n not in sys.stdlib_module_names) == []


@pytest.mark.parametrize(("source", "expected"), [
    ("from packager.fold import fold\n", ["crawler/bad.py: packager.fold", "crawler/bad.py: packager.fold.fold"]),
    ("def f():\n    import paperset.cli\n", ["crawler/bad.py: paperset.cli"]),
    ("from .items import PaperEntry\n", []),
    ("from crawler.items import PaperEntry\nfrom spool.schema import ENTRY\n", []),
])
def test_the_contract_catches_a_wrong_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str,
                                             expected: list[str]) -> None:
    """The checker itself: an import the wrong way, also inside a function, is named; the right ones not."""
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    (tmp_path / "crawler").mkdir()
    bad = tmp_path / "crawler" / "bad.py"
    bad.write_text(source, encoding="utf-8")
    assert violations("crawler", {"crawler", "spool"}) == expected
