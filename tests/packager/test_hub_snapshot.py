"""A Hub copy downloaded the way users fetch a revision (`huggingface_hub.snapshot_download`, into a folder
or into the cache) verifies: the files the Hub adds (`.gitattributes`, huggingface_hub's `.cache/huggingface/`)
are not the version's, anything else unlisted or changed still fails `paperset verify`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from paperset.packager.manifest import hub_added

from .conftest import build, files_of, paperset
from .hub_standin import HubStandIn

pytestmark = pytest.mark.slow  # packages and publishes with `paperset` end to end (docs/testing.md)

REPO = "someone/papers"
TARGET = f"hf://datasets/{REPO}"


def snapshot(hub: HubStandIn, cache: Path, local_dir: Path | None = None, revision: str | None = None) -> Path:
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(REPO, repo_type="dataset", revision=revision, endpoint=hub.endpoint, token=False,
                                  cache_dir=str(cache), local_dir=str(local_dir) if local_dir else None))


def verify(hub: HubStandIn, home: Path, folder: Path) -> tuple[int, str, str]:
    result = paperset(hub, home, "verify", str(folder))
    return result.returncode, result.stdout, result.stderr


def test_a_snapshot_download_verifies_and_only_hub_files_are_ignored(tmp_path, corpus_path, hub) -> None:
    home = tmp_path / "home"
    version = build(tmp_path, corpus_path, "a", 30)
    assert paperset(hub, home, "publish", str(version), TARGET, "--upload").returncode == 0
    into = snapshot(hub, tmp_path / "cache", tmp_path / "copy", revision=version.name)
    assert (into / ".gitattributes").is_file() and (into / ".cache/huggingface").is_dir()
    assert verify(hub, home, into) == (0, f"{into}: verified\n", "")
    cached = snapshot(hub, tmp_path / "cache2")  # the cache's snapshot folder: symlinks into its blobs
    assert (cached / ".gitattributes").is_symlink()
    assert verify(hub, home, cached) == (0, f"{cached}: verified\n", "")

    # The Hub's .gitattributes is not the dataset's: edited, it is still not checked.
    (into / ".gitattributes").write_text("*.json filter=lfs diff=lfs merge=lfs -text\n")
    assert verify(hub, home, into)[0] == 0
    # Anything else unlisted or changed still fails, a .gitattributes below the root included.
    for extra, data in (("papers/.gitattributes", b"x"), (".cache/other.txt", b"x"), ("notes.txt", b"x"),
                        ("papers/.cache/huggingface/x", b"x")):
        bad = tmp_path / "bad"
        shutil.copytree(into, bad)
        (bad / extra).parent.mkdir(parents=True, exist_ok=True)
        (bad / extra).write_bytes(data)
        assert verify(hub, home, bad) == (1, f"{bad}: {extra}: not in the manifest\n",
                                          f"paperset verify: {bad} does not verify (1 problem)\n"), extra
        shutil.rmtree(bad)
    part = sorted((into / "papers").glob("part-*.parquet"))[0]
    data = part.read_bytes()
    part.write_bytes(data[:10] + bytes([data[10] ^ 1]) + data[11:])  # one bit, in a data page
    assert verify(hub, home, into) == (1, f"{into}: papers/{part.name}: checksum or size differs from the "
                                          "manifest\n", f"paperset verify: {into} does not verify (1 problem)\n")


def test_publishing_a_downloaded_copy_sends_only_the_version(tmp_path, corpus_path, hub) -> None:
    home = tmp_path / "home"
    version = build(tmp_path, corpus_path, "a", 20)
    assert paperset(hub, home, "publish", str(version), TARGET, "--upload").returncode == 0
    copy = snapshot(hub, tmp_path / "cache", tmp_path / "copy")
    mirror = hub.create("someone/mirror")
    up = paperset(hub, home, "publish", str(copy), "hf://datasets/someone/mirror", "--upload")
    assert up.returncode == 0, up.stderr
    assert mirror.head.files == {".gitattributes": mirror.commits[0].files[".gitattributes"], **files_of(version)}


def test_the_list_of_hub_added_files() -> None:
    assert [name for name in (".gitattributes", ".cache/huggingface/download/a.metadata", ".cache/huggingface/x",
                              "a/.gitattributes", ".gitattributes.bak", ".cache/other", "x/.cache/huggingface/y",
                              ".cache/huggingfacex/y", "README.md") if hub_added(name)] == [
        ".gitattributes", ".cache/huggingface/download/a.metadata", ".cache/huggingface/x"]
