"""One exit-code contract (paperset/app/exits.py): every command, in each state (the dataset locked, bad input,
a missing dataset), exits with the table's code, says so in one line on stderr, and a command given
--json prints its outcome line last whatever the failure. The README's table and every --help are the
table's own text."""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from paperset.app.exits import EXIT_CODES, EXITS, Exit, classify, help_epilog, markdown_table
from paperset.cli import build_parser, main
from tests.conftest import ROOT, corpus_spool, run_paperset

DOWN = "http://127.0.0.1:9"


@pytest.fixture
def held(tmp_path: Path) -> Iterator[Path]:
    """ROOT with dataset `ds` whose lock this test holds (as a running `paperset run` would)."""
    dataset = tmp_path / "root" / "ds"
    dataset.mkdir(parents=True)
    with (dataset / ".lock").open("a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        handle.write('{"pid": 1}')
        handle.flush()
        yield tmp_path / "root"


def cases(tmp: Path, root: Path) -> list[tuple[str, list[str], Exit]]:
    """(state, argv, exit code) of every command in every state it can meet."""
    file = tmp / "a-file"
    file.write_text("x")
    spool, version = str(tmp / "no-spool"), str(tmp / "no-version")
    return [
        ("locked", ["run", "--day", "2025-02-03", "--base-url", DOWN, "--out", str(root), "--name", "ds"], Exit.LOCKED),
        ("locked", ["package", "--spool", spool, "--out", str(root), "--name", "ds"], Exit.LOCKED),
        ("locked", ["prune", str(root / "ds"), "--keep", "1"], Exit.LOCKED),
        ("locked", ["pull", "hf://datasets/o/ds", "--out", str(root), "--name", "ds"], Exit.LOCKED),
        ("bad input", ["run", "--day", "2025-13-01", "--out", str(root)], Exit.BAD_INPUT),
        ("bad input", ["run", "--day", "2025-02-03", "--out", str(file / "x")], Exit.BAD_INPUT),
        ("bad input", ["crawl", "--day", "2025-02-30", "--out", str(tmp / "c.jsonl")], Exit.BAD_INPUT),
        ("bad input", ["crawl", "--out", str(tmp / "c.jsonl")], Exit.BAD_INPUT),
        ("bad input", ["package", "--spool", spool, "--out", str(root), "--name", "../x"], Exit.BAD_INPUT),
        ("bad input", ["publish", version, "hf://nowhere"], Exit.BAD_INPUT),
        ("bad input", ["pull", "hf://datasets/bad id", "--out", str(root)], Exit.BAD_INPUT),
        ("bad input", ["prune", str(root / "ds"), "--keep", "0"], Exit.BAD_INPUT),
        ("bad input", ["worker", "--redis", "http://127.0.0.1:9"], Exit.BAD_INPUT),
        ("bad input", ["demo", "--out", str(file)], Exit.BAD_INPUT),
        ("bad input", ["fixture", "save", "ftp://x/y", "--name", "n", "--fixtures", str(tmp / "fx")], Exit.BAD_INPUT),
        ("missing", ["package", "--spool", spool, "--out", str(root), "--name", "other"], Exit.FAILED),
        ("missing", ["verify", version], Exit.FAILED),
        ("missing", ["diff", version, version], Exit.BAD_INPUT),
        ("missing", ["prune", str(tmp / "nope"), "--keep", "1"], Exit.BAD_INPUT),
        ("missing", ["publish", version, str(tmp / "copy")], Exit.FAILED),
        ("missing", ["worker", "--redis", "redis://127.0.0.1:9/0", "--name", "nothing", "--wait", "0"], Exit.FAILED),
        ("missing", ["fixture", "save", f"{DOWN}/papers", "--name", "n", "--fixtures", str(tmp / "fx")],
         Exit.FAILED),
    ]


def takes_json(argv: list[str]) -> bool:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[argv[0]]
    return any("--json" in action.option_strings for action in sub._actions)


def test_every_command_in_every_state(tmp_path, held, capsys) -> None:
    seen = set()
    for state, argv, code in cases(tmp_path, held):
        seen.add(argv[0])
        with_json = [*argv, "--json"] if takes_json(argv) else argv
        assert main(with_json) == code, (state, argv)
        out, err = capsys.readouterr()
        command = " ".join(argv[:2]) if argv[0] == "fixture" else argv[0]
        assert err.startswith(f"paperset {command}: "), (state, argv, err)
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, (state, argv, err)
        if with_json is not argv:
            line = json.loads(out.strip().splitlines()[-1])
            assert (line["exit_code"], EXIT_CODES[line["outcome"]]) == (code, code), (state, argv, line)
            assert line["error"] == err.strip().split(": ", 1)[1]
    commands = {"run", "crawl", "package", "publish", "pull", "verify", "diff", "prune", "worker", "demo", "fixture"}
    assert seen == commands
    assert not (held / "ds" / ".runs").exists() and sorted(p.name for p in (held / "ds").iterdir()) == [".lock"]


def test_pull_of_a_locked_dataset_is_4_like_package_and_prune(tmp_path, held) -> None:
    result = run_paperset("pull", "hf://datasets/o/ds", "--out", str(held), "--name", "ds")
    assert result.returncode == 4
    assert result.stderr == (f"paperset pull: {held / 'ds'} is being written by another paperset run "
                             '({"pid": 1}); try again later or pass --wait SECONDS\n')


def test_operational_failures_are_not_value_errors() -> None:
    from paperset.crawler.errors import CrawlerError
    from paperset.packager.errors import PackagerError
    from paperset.spool.errors import SpoolError

    for root in (CrawlerError, PackagerError, SpoolError):
        assert not issubclass(root, ValueError)
    # A ValueError escaping an operation (a bug, or Arrow's ArrowInvalid) is a failure, not bad input.
    assert classify(ValueError("deep in the packager"))[:2] == ("failed", "unexpected ValueError: deep in the packager")
    assert classify(KeyboardInterrupt()) == ("failed", "interrupted", True)


def test_the_readme_and_every_help_show_the_one_table() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert markdown_table() in readme
    assert sorted({int(row.code) for row in EXITS}) == [0, 1, 2, 3, 4, 5]
    parser = build_parser()
    subs = next(a for a in parser._actions if a.dest == "command").choices
    for name, sub in subs.items():
        assert sub.format_help().endswith(help_epilog() + "\n"), name


def test_package_json_says_its_outcome_too(tmp_path, corpus_path, capsys) -> None:
    spool = corpus_spool(tmp_path / "spool", corpus_path, 30)
    argv = ["package", "--spool", str(spool), "--out", str(tmp_path / "root"), "--name", "ds", "--json"]
    assert main(argv) == Exit.OK
    first = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (first["outcome"], first["exit_code"], first["changed"]) == ("published", 0, True)
    assert main(argv) == Exit.OK
    again = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (again["outcome"], again["exit_code"], again["changed"]) == ("unchanged", 0, False)
