"""Components meet through Scrapy's seams (signals, settings, `from_crawler`), not through each other's
insides: no module reads or sets a private attribute of Scrapy's crawler or of the spider, and no module
but the spider's own (paperset/crawler/spiders/) sets an attribute on the spider."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .conftest import PARTS, ROOT

OWNERS = ("crawler", "spider")


def _owner(node: ast.expr) -> str | None:
    """`crawler`/`spider` for `crawler.x`, `self.crawler.x`, `spider.x`, `self.spider.x`; else None."""
    if isinstance(node, ast.Name) and node.id in OWNERS:
        return node.id
    if isinstance(node, ast.Attribute) and node.attr in OWNERS:
        return node.attr
    return None


def reaches_in(path: Path, root: Path) -> list[str]:
    """`file:line what` for each private attribute of the crawler or spider used, and each attribute set on
    the spider outside paperset/crawler/spiders/."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    where = path.relative_to(root)
    found = []
    own_spider = where.parts[:3] == ("paperset", "crawler", "spiders")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _owner(node.value):
            if node.attr.startswith("_") and not node.attr.startswith("__"):
                found.append(f"{where}:{node.lineno} {_owner(node.value)}.{node.attr}")
            elif isinstance(node.ctx, ast.Store) and _owner(node.value) == "spider" and not own_spider:
                found.append(f"{where}:{node.lineno} spider.{node.attr} =")
    return found


def test_no_module_reaches_into_the_crawler_or_the_spider() -> None:
    found = [hit for part in PARTS for path in sorted((ROOT / part).rglob("*.py")) for hit in reaches_in(path, ROOT)]
    assert found == []


@pytest.mark.parametrize(("source", "expected"), [
    ("crawler._paperset_outbox = 1\n", ["paperset/crawler/x.py:1 crawler._paperset_outbox"]),
    ("def f(self):\n    self.crawler._x.y()\n", ["paperset/crawler/x.py:2 crawler._x"]),
    ("spider.coverage_sink = sink\n", ["paperset/crawler/x.py:1 spider.coverage_sink ="]),
    ("spider.http_user, spider.http_pass = 'u', 'p'\n", ["paperset/crawler/x.py:1 spider.http_user =",
                                                         "paperset/crawler/x.py:1 spider.http_pass ="]),
    ("x = spider.base_url\ncrawler.signals.connect(f)\n", []),
])
def test_the_check_names_what_reaches_in(tmp_path: Path, source: str, expected: list[str]) -> None:
    (tmp_path / "paperset" / "crawler").mkdir(parents=True)
    (tmp_path / "paperset" / "crawler" / "x.py").write_text(source, encoding="utf-8")
    assert sorted(reaches_in(tmp_path / "paperset" / "crawler" / "x.py", tmp_path)) == sorted(expected)
