"""Names and paths are checked before any file is made: a bad `--name` or `--out` is exit 2 and leaves
nothing behind, for `package` and for `run`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_paperset

from .conftest import make_spool

pytestmark = pytest.mark.slow  # real crawls or runs of `paperset`, seconds a test (docs/testing.md)


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize(("name", "message"), [
    ("../escaped", "bad dataset name '../escaped'"),
    ("/tmp/paperset-abs-name", "bad dataset name '/tmp/paperset-abs-name'"),
    ("n" * 300, f"bad dataset name {'n' * 40!r}...: 300 characters, at most 100"),
])
@pytest.mark.parametrize("command", ["package", "run"])
def test_a_bad_name_is_exit_2_and_creates_nothing(tmp_path, corpus_path, name, message, command) -> None:
    spool = make_spool(tmp_path / "spool", corpus_path, 5)
    before = files_under(tmp_path)
    root = tmp_path / "root"
    if command == "package":
        result = run_paperset("package", "--spool", str(spool), "--out", str(root), "--name", name)
    else:
        result = run_paperset("run", "--day", "2025-02-03", "--base-url", "http://127.0.0.1:9", "--out", str(root),
                              "--name", name)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"paperset {command}: {message}")
    assert len(result.stderr.strip().splitlines()) == 1
    assert files_under(tmp_path) == before
    assert not Path("/tmp/paperset-abs-name").exists()


def test_run_with_out_pointing_at_a_file_is_exit_2(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_paperset("run", "--day", "2025-02-03", "--base-url", "http://127.0.0.1:9", "--out", str(blocker))
    assert result.returncode == 2
    assert result.stderr == f"paperset run: output folder {blocker / 'hf-papers'}: {blocker} is a file, not a folder\n"
    assert blocker.read_text() == "x"
