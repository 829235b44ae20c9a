"""Settings are read once, into frozen configs: a component reads the fields of its room's config (built by
`from_settings`, in `from_crawler` for what Scrapy builds), never `settings.get*("PAPERSET_...")` itself.

The rule, held here: a read of a PAPERSET_ setting by name (`x.get("PAPERSET_...")`, `getint`, `getbool`,
`getfloat`, `getlist`, `getdict`, `getwithbase`, or `x["PAPERSET_..."]`) appears only inside a config class
(a class with a `setting(...)` field: paperset/crawler/settings/fields.py), in the settings room itself
(paperset/crawler/settings/: the declarations and the pre-run check), or in a module of ALLOWED, each with
why."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .conftest import PARTS, ROOT

GETTERS = ("get", "getint", "getbool", "getfloat", "getlist", "getdict", "getwithbase")
SETTINGS_ROOM = ("paperset", "crawler", "settings")
ALLOWED = {
    # `archive_setting` reads the `-s` values the user gave (CrawlJob.settings, a dict), not the crawl's
    # settings: whether PAPERSET_ARCHIVE was given at all is the question, which no config can answer.
    "paperset/app/archives.py": "the -s values given",
}


def _environ(node: ast.expr) -> bool:
    """`os.environ` or `environ`: the environment's variables (`$PAPERSET_CHROMIUM`), not settings."""
    return (isinstance(node, ast.Name) and node.id == "environ") or (isinstance(node, ast.Attribute)
                                                                     and node.attr == "environ")


def _named(node: ast.AST) -> str | None:
    """The PAPERSET_ name a node reads by name, else None."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in GETTERS:
        first, owner = (node.args[0] if node.args else None), node.func.value
    elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
        first, owner = node.slice, node.value
    else:
        return None
    if _environ(owner):
        return None
    if isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value.startswith("PAPERSET_"):
        return first.value
    return None


def _is_config(node: ast.ClassDef) -> bool:
    """A config class: one of its fields is `setting("NAME")`."""
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "setting"
               for item in node.body for n in ast.walk(item))


def direct_reads(path: Path, root: Path) -> list[str]:
    """`file:line NAME` for each read of a PAPERSET_ setting by name outside a config class."""
    where = path.relative_to(root)
    if where.parts[:3] == SETTINGS_ROOM or where.as_posix() in ALLOWED:
        return []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inside = {id(n) for c in ast.walk(tree) if isinstance(c, ast.ClassDef) and _is_config(c) for n in ast.walk(c)}
    return [f"{where}:{node.lineno} {name}" for node in ast.walk(tree)
            if id(node) not in inside and (name := _named(node)) is not None]


def test_no_component_reads_a_paperset_setting_by_name() -> None:
    found = [hit for part in PARTS for path in sorted((ROOT / part).rglob("*.py")) for hit in direct_reads(path, ROOT)]
    assert found == []


def test_every_allowed_module_exists() -> None:
    assert [name for name in ALLOWED if not (ROOT / name).is_file()] == []


@pytest.mark.parametrize(("source", "expected"), [
    ('def f(crawler):\n    return crawler.settings.getbool("PAPERSET_PROGRESS")\n', ["2 PAPERSET_PROGRESS"]),
    ('x = settings.get("PAPERSET_SPOOL") or settings["PAPERSET_RESUME"]\n',
     ["1 PAPERSET_SPOOL", "1 PAPERSET_RESUME"]),
    ('n = settings.getint("PAPERSET_API_PAGE_SIZE", 50)\ny = settings.getlist("PAPERSET_REPLAY")\n',
     ["1 PAPERSET_API_PAGE_SIZE", "2 PAPERSET_REPLAY"]),
    # Inside a config class, Scrapy's own settings, a write: not reads of a PAPERSET_ setting by name.
    ('class C:\n    spool: str = setting("PAPERSET_SPOOL")\n    def f(self, s):\n'
     '        return s.get("PAPERSET_SPOOL")\n', []),
    ('a = settings.getint("URLLENGTH_LIMIT")\nsettings.set("PAPERSET_PROGRESS", True)\n'
     'settings["PAPERSET_SPOOL"] = ""\nb = os.environ.get("PAPERSET_CHROMIUM") or environ["PAPERSET_CONTACT"]\n',
     []),
])
def test_the_check_names_each_direct_read(tmp_path: Path, source: str, expected: list[str]) -> None:
    (tmp_path / "paperset" / "crawler" / "room").mkdir(parents=True)
    module = tmp_path / "paperset" / "crawler" / "room" / "x.py"
    module.write_text(source, encoding="utf-8")
    assert sorted(direct_reads(module, tmp_path)) == sorted(f"paperset/crawler/room/x.py:{hit}" for hit in expected)
