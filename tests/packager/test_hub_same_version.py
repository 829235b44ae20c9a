"""Publishing under a version name the Hub already holds: the same manifest is "nothing to upload"; another
manifest is refused (both checksums named), or with `--as-new-version` published as a renamed copy under the
next free name, which the local dataset then continues."""

from __future__ import annotations

import json
import shutil

import pytest

from paperset.packager.manifest import problems, sha256
from paperset.packager.rename import next_free_name, rename_text
from tests.conftest import run_paperset

from .conftest import build, files_of, make_spool, paperset, posts, version_of

pytestmark = pytest.mark.slow  # packages and publishes with `paperset` end to end (docs/testing.md)

REPO = "someone/papers"
TARGET = f"hf://datasets/{REPO}"


def refusal(theirs, ours) -> str:
    return (f"paperset publish: refused: the Hub holds a different {ours.name} (manifest sha256 "
            f"{sha256(theirs / 'manifest.json')}) than {ours} (manifest sha256 {sha256(ours / 'manifest.json')}): a "
            "version name stands for one dataset (--as-new-version publishes this one under the next free name, "
            "--force replaces it)\n")


def test_another_dataset_under_the_name_on_main_is_refused(tmp_path, corpus_path, hub) -> None:
    home = tmp_path / "home"
    first = build(tmp_path, corpus_path, "a", 30)
    assert paperset(hub, home, "publish", str(first), TARGET, "--upload").returncode == 0
    # The same manifest again (a copy of it elsewhere): nothing to upload, exit 0.
    shutil.copytree(first, tmp_path / "copy" / first.name)
    same = paperset(hub, home, "publish", str(tmp_path / "copy" / first.name), TARGET, "--upload")
    repo = hub.repos[REPO]
    assert (same.returncode, same.stdout) == (0, f"{TARGET} already holds {first.name} (commit {repo.head.sha}): "
                                                 "nothing to upload\n")
    # Another dataset built the same day elsewhere: same name, other content.
    other = build(tmp_path, corpus_path, "b", 12, root=tmp_path / "elsewhere")
    assert other.name == first.name
    for extra in ((), ("--upload",)):
        refused = paperset(hub, home, "publish", str(other), TARGET, *extra)
        assert (refused.returncode, refused.stdout, refused.stderr) == (1, "", refusal(first, other))
    assert len(repo.commits) == 2 and repo.tags == {first.name: repo.head.sha}
    assert len(posts(hub, "commit/")) == 1
    # Nor does a pull keep a local version of that name with another manifest while saying it pulled.
    before, kept = (other.parent / "LATEST").read_text(), files_of(other)
    pulled = paperset(hub, home, "pull", TARGET, "--out", str(other.parent.parent), "--name", "ds")
    assert (pulled.returncode, pulled.stdout) == (1, "")
    assert pulled.stderr == (f"paperset pull: refused: {other} holds a different {other.name} (manifest sha256 "
                             f"{sha256(other / 'manifest.json')}) than {TARGET} at main (manifest sha256 "
                             f"{sha256(first / 'manifest.json')}): nothing pulled\n")
    assert (other.parent / "LATEST").read_text() == before and files_of(other) == kept
    # --force replaces it (as it moves a tag): the Hub then holds the other dataset under that name.
    forced = paperset(hub, home, "publish", str(other), TARGET, "--upload", "--force")
    assert forced.returncode == 0, forced.stderr
    assert repo.head.files == {".gitattributes": repo.commits[0].files[".gitattributes"], **files_of(other)}
    assert repo.tags == {first.name: repo.head.sha}


def test_as_new_version_publishes_a_renamed_copy_the_next_run_continues(tmp_path, corpus_path, hub) -> None:
    home, root = tmp_path / "home", tmp_path / "elsewhere"
    first = build(tmp_path, corpus_path, "a", 30)
    assert paperset(hub, home, "publish", str(first), TARGET, "--upload").returncode == 0
    repo = hub.repos[REPO]
    other = build(tmp_path, corpus_path, "b", 12, root=root)  # a sibling: also a first version
    original = files_of(other)
    new = f"{other.name}.02"
    head = (f"the Hub holds a different {other.name} (manifest sha256 {sha256(first / 'manifest.json')}) than {other} "
            f"(manifest sha256 {sha256(other / 'manifest.json')})")
    dry = paperset(hub, home, "publish", str(other), TARGET, "--as-new-version")
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    assert lines[0] == f"{head}: would publish it as {new}, a renamed copy {root / 'ds' / new}"
    assert lines[1] == f"  the Hub holds {first.name} (commit {repo.head.sha})"
    assert lines[-1].endswith(f"deleted; then tag {new}")
    assert not (root / "ds" / new).exists() and len(repo.commits) == 2

    up = paperset(hub, home, "publish", str(other), TARGET, "--upload", "--as-new-version")
    assert up.returncode == 0, up.stderr
    copy = root / "ds" / new
    assert up.stdout.splitlines() == [
        f"{head}: published as {new}, a renamed copy {copy}",
        f"uploaded {copy} to {TARGET} (commit {repo.head.sha}, tag {new}): {len(original)} files, 0 deleted",
        *[line for line in up.stdout.splitlines() if line.endswith("bytes sent")],
        f"{root / 'ds' / 'LATEST'} now names {new}"]
    assert files_of(other) == original and problems(copy) == []  # the original is untouched
    manifest = json.loads((copy / "manifest.json").read_text())
    assert (manifest["version"], manifest["parent"]) == (new, None)
    assert manifest["renamed_from"] == {"version": other.name, "manifest_sha256": sha256(other / "manifest.json")}
    renamed = files_of(copy)
    assert {p for p in original if original[p] != renamed[p]} == {"README.md", "CHANGES.md", "croissant.json",
                                                                  "manifest.json"}
    card = renamed["README.md"].decode()
    assert f"# ds ({new})" in card and f'revision="{new}"' in card and f"@misc{{ds_{new.replace('.', '_')}," in card
    assert f"{other.name})" not in card and f'"{other.name}"' not in card
    assert json.loads(renamed["croissant.json"])["version"] == new
    assert renamed["CHANGES.md"].decode().startswith(f"# Changes in {new}\n")
    assert repo.tags == {first.name: repo.commits[1].sha, new: repo.head.sha}
    assert repo.head.files == {".gitattributes": repo.commits[0].files[".gitattributes"], **renamed}
    # Again: the copy already made is the one published, nothing uploaded.
    again = paperset(hub, home, "publish", str(other), TARGET, "--upload", "--as-new-version")
    assert again.returncode == 0 and again.stdout.splitlines()[1] == (
        f"{TARGET} already holds {new} (commit {repo.head.sha}): nothing to upload")
    assert sorted(p.name for p in (root / "ds").iterdir() if not p.name.startswith(".")) == [
        other.name, new, "LATEST"]
    # The next run packages the renamed copy's child, and the Hub takes it as continuing what it holds.
    spool = make_spool(tmp_path / "spool-c", corpus_path, 40)
    assert run_paperset("package", "--spool", str(spool), "--out", str(root), "--name", "ds").returncode == 0
    child = version_of(root)
    assert json.loads((child / "manifest.json").read_text())["parent"] == new
    assert paperset(hub, home, "publish", str(child), TARGET, "--upload").returncode == 0


def test_as_new_version_keeps_the_parent_check(tmp_path, corpus_path, hub) -> None:
    home = tmp_path / "home"
    first = build(tmp_path, corpus_path, "a", 30)
    second = build(tmp_path, corpus_path, "b", 40)  # same day: `first.name`.02, parent first
    assert paperset(hub, home, "publish", str(first), TARGET, "--upload").returncode == 0
    assert paperset(hub, home, "publish", str(second), TARGET, "--upload").returncode == 0
    # A machine that lost its state: a first version named like the Hub's tag `first.name`.
    fresh = build(tmp_path, corpus_path, "c", 10, root=tmp_path / "fresh")
    assert fresh.name == first.name
    refused = paperset(hub, home, "publish", str(fresh), TARGET, "--upload", "--as-new-version")
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.startswith(f"paperset publish: refused: the Hub holds version {second.name}, and "
                                     f"{first.name}.03's parent is none (a first version)")
    assert len(hub.repos[REPO].commits) == 3


def test_renaming_names() -> None:
    assert next_free_name("2026.12.05", {"2026.12.05.02"}) == "2026.12.05.03"
    assert next_free_name("2026.12.05", {"2026.12.05.2"}) == "2026.12.05.03"  # an older release's name
    assert next_free_name("2026.12.05.2", set()) == "2026.12.05.03"
    assert next_free_name("2026.12.05", set()) == "2026.12.05.02"
    assert next_free_name("custom", {"custom.2"}) == "custom.3"
    text = ("# ds (2026.12.05)\nVersion `2026.12.05`, parent `2026.12.04`; not 2026.12.05.2 nor x2026.12.05 nor "
            "2026-12-05\n@misc{ds_2026_12_05,\n  version = {2026.12.05},\n")
    assert rename_text(text, "2026.12.05", "2026.12.05.3") == (
        "# ds (2026.12.05.3)\nVersion `2026.12.05.3`, parent `2026.12.04`; not 2026.12.05.2 nor x2026.12.05 nor "
        "2026-12-05\n@misc{ds_2026_12_05_3,\n  version = {2026.12.05.3},\n")
