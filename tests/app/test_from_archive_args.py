"""`paperset run --from-archive` refuses what it cannot replay in one line, exit 2, before anything runs."""

from __future__ import annotations

from tests.conftest import run_paperset


def test_a_missing_or_unreadable_archive_is_one_line_and_exit_2(tmp_path) -> None:
    missing = run_paperset("run", "--day", "2025-02-03", "--from-archive", str(tmp_path / "nope.warc.gz"),
                           "--out", str(tmp_path / "out"))
    assert (missing.returncode, missing.stdout) == (2, "")
    assert missing.stderr == f"paperset run: --from-archive {tmp_path / 'nope.warc.gz'}: no such file\n"
    junk = tmp_path / "junk.warc.gz"
    junk.write_bytes(b"not a web archive\n")
    unreadable = run_paperset("run", "--day", "2025-02-03", "--from-archive", str(junk), "--out", str(tmp_path / "out"))
    assert (unreadable.returncode, unreadable.stderr.count("\n")) == (2, 1)
    assert unreadable.stderr.startswith(f"paperset run: --from-archive {junk}: not a readable web archive (")
    assert not (tmp_path / "out").exists()
