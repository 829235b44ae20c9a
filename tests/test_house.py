"""The house rules a reviewer would otherwise check by hand: small modules, short functions, and the
configured linter (pyproject.toml's `[tool.ruff]`) reporting nothing."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

from .conftest import PARTS, ROOT

MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60


def too_big(path: Path) -> list[str]:
    """The module if it is over MAX_MODULE_LINES, and each function over MAX_FUNCTION_LINES (def to end)."""
    source = path.read_text(encoding="utf-8")
    found = [f"{path.name}: {len(source.splitlines())} lines"] if len(source.splitlines()) > MAX_MODULE_LINES else []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found.append(f"{path.name}: {node.name}() {length} lines")
    return found


def test_no_module_over_300_lines_and_no_function_over_60() -> None:
    found = [f"{part}/{problem}" for part in PARTS for path in sorted((ROOT / part).rglob("*.py"))
             for problem in too_big(path)]
    assert found == []


def test_the_size_check_sees_a_long_function(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    (tmp_path / "long.py").write_text(f"def f():\n{body}\n", encoding="utf-8")
    (tmp_path / "short.py").write_text("def g():\n    return 1\n", encoding="utf-8")
    assert too_big(tmp_path / "long.py") == [f"long.py: f() {MAX_FUNCTION_LINES + 1} lines"]
    assert too_big(tmp_path / "short.py") == []


def test_ruff_reports_nothing() -> None:
    ruff = ROOT / ".venv" / "bin" / "ruff"
    if not ruff.exists():
        pytest.fail("ruff is not in .venv: `make setup` installs the dev extra, which pins it")
    result = subprocess.run([str(ruff), "check", "--output-format", "concise", "--no-cache", "."], cwd=ROOT,
                            capture_output=True, text=True, timeout=120, check=False)
    assert (result.returncode, result.stdout.splitlines()[:20]) == (0, ["All checks passed!"])
