"""`paperset publish hf://...` and `paperset pull` against a Hub stand-in on 127.0.0.1 (HF_ENDPOINT):
one commit that replaces the files exactly, the parent check, the tag, pull then verify."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import ROOT

from .conftest import build, files_of, make_spool, paperset, posts, version_of

pytestmark = pytest.mark.slow  # runs `paperset` end to end, several seconds a test (docs/testing.md)

REPO = "someone/papers"
TARGET = f"hf://datasets/{REPO}"


def test_bad_repo_ids_are_refused_before_anything(tmp_path, corpus_path, hub) -> None:
    version = build(tmp_path, corpus_path, "a", 20)
    for bad in ("hf://datasets/bad name!", "hf://datasets/onlyname", "hf://datasets/a/b/c", "hf://datasets/a--b/c",
                "hf://datasets/-a/b"):
        result = paperset(hub, tmp_path / "home", "publish", str(version), bad, "--upload")
        assert result.returncode == 2, (bad, result.stderr)
        assert result.stderr.startswith("paperset publish: bad Hub dataset id") and result.stderr.count("\n") == 1
        pulled = paperset(hub, tmp_path / "home", "pull", bad, "--out", str(tmp_path / "pulled"))
        assert pulled.returncode == 2 and "bad Hub dataset id" in pulled.stderr
    assert hub.requests == []
    assert not (tmp_path / "pulled").exists()


def test_first_publish_then_a_second_that_removes_a_stale_part(tmp_path, corpus_path, hub) -> None:
    home = tmp_path / "home"
    first = build(tmp_path, corpus_path, "a", 30)
    dry = paperset(hub, home, "publish", str(first), TARGET)
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    assert lines[0] == f"would upload {first} to {TARGET} (paperset {first.name}); pass --upload to do it"
    assert lines[1] == "  the repository does not exist yet: it would be created"
    for path, data in files_of(first).items():
        assert f"  add     {path}  {len(data):,} bytes" in lines
    assert not [line for line in lines if line.startswith("  delete")]
    assert REPO not in hub.repos and not posts(hub, "")

    up = paperset(hub, home, "publish", str(first), TARGET, "--upload")
    assert up.returncode == 0, up.stderr
    repo = hub.repos[REPO]
    assert [c.summary for c in repo.commits] == ["initial commit", f"paperset {first.name}"]
    assert repo.head.files == {".gitattributes": repo.commits[0].files[".gitattributes"], **files_of(first)}
    assert repo.tags == {first.name: repo.head.sha}
    assert len(posts(hub, "commit/")) == 1 and repo.private is False
    assert all(r["authorized"] for r in hub.requests if r["method"] == "POST" and "validate-yaml" not in r["path"])

    # An earlier, larger version's part left on the Hub: the next publish must remove it.
    hub._commit(repo, {"papers/part-00001.parquet": b"stale"}, [], "left over")
    second = build(tmp_path, corpus_path, "b", 60)
    assert json.loads((second / "manifest.json").read_text())["parent"] == first.name
    dry = paperset(hub, home, "publish", str(second), TARGET)
    assert dry.returncode == 0, dry.stderr
    assert f"  the Hub holds {first.name} (commit {repo.head.sha})" in dry.stdout.splitlines()
    assert "  delete  papers/part-00001.parquet  5 bytes" in dry.stdout.splitlines()
    before = repo.head.sha
    up = paperset(hub, home, "publish", str(second), "--to", TARGET, "--upload")
    assert up.returncode == 0, up.stderr
    assert up.stdout.splitlines()[0] == (f"uploaded {second} to {TARGET} (commit {repo.head.sha}, tag {second.name}): "
                                         f"{len(files_of(second))} files, 1 deleted")
    held = len(files_of(second)) - len(repo.head.added)  # the partitions the first version already had
    assert up.stdout.splitlines()[1:] == ([f"  {held} files the Hub already held were not sent; "
                                           f"{sum(len(repo.head.files[p]) for p in repo.head.added):,} bytes sent"]
                                          if held else [])
    assert repo.head.parent == before and repo.head.deleted == ["papers/part-00001.parquet"]
    assert repo.head.files == {".gitattributes": repo.commits[0].files[".gitattributes"], **files_of(second)}
    assert repo.tags == {first.name: repo.commits[1].sha, second.name: repo.head.sha}
    header = json.loads(posts(hub, "commit/")[-1]["body"].splitlines()[0])["value"]
    assert header["parentCommit"] == before
    # The same version again: nothing uploaded.
    again = paperset(hub, home, "publish", str(second), TARGET, "--upload")
    assert again.returncode == 0 and "already holds" in again.stdout
    assert len(posts(hub, "commit/")) == 2


def test_a_version_whose_parent_the_hub_does_not_hold_is_refused(tmp_path, corpus_path, hub) -> None:
    home = tmp_path / "home"
    first = build(tmp_path, corpus_path, "a", 30)
    assert paperset(hub, home, "publish", str(first), TARGET, "--upload").returncode == 0
    second = build(tmp_path, corpus_path, "b", 60)
    assert paperset(hub, home, "publish", str(second), TARGET, "--upload").returncode == 0
    # A run that lost its local state: a fresh first version of 10 papers.
    fresh = build(tmp_path, corpus_path, "c", 10, root=tmp_path / "fresh")
    commits = len(hub.repos[REPO].commits)
    for extra in ((), ("--upload",)):
        refused = paperset(hub, home, "publish", str(fresh), TARGET, *extra)
        assert refused.returncode == 1
        assert refused.stderr == (f"paperset publish: refused: the Hub holds version {second.name}, and "
                                  f"{fresh.name}'s parent is none (a first version): publishing would replace a "
                                  "dataset this version does not continue (pull it first, or --force)\n")
    # Nor is the older version itself, and a repository of other files is not overwritten either.
    assert paperset(hub, home, "publish", str(first), TARGET, "--upload").returncode == 1
    hub.create("someone/other", {"data.csv": b"a,b\n"})
    other = paperset(hub, home, "publish", str(fresh), "hf://datasets/someone/other", "--upload")
    assert other.returncode == 1 and "no paperset manifest.json" in other.stderr
    assert len(hub.repos[REPO].commits) == commits and len(hub.repos["someone/other"].commits) == 2
    forced = paperset(hub, home, "publish", str(fresh), TARGET, "--upload", "--force")
    assert forced.returncode == 0 and "forced over the parent check" in forced.stdout
    assert hub.repos[REPO].head.files.keys() == {".gitattributes", *files_of(fresh)}


def test_pull_brings_a_version_back_as_the_parent(tmp_path, corpus_path, hub) -> None:
    home = tmp_path / "home"
    first = build(tmp_path, corpus_path, "a", 30)
    assert paperset(hub, home, "publish", str(first), TARGET, "--upload").returncode == 0
    second = build(tmp_path, corpus_path, "b", 60)
    assert paperset(hub, home, "publish", str(second), TARGET, "--upload").returncode == 0

    fresh = tmp_path / "fresh-machine"
    pulled = paperset(hub, home, "pull", TARGET, "--out", str(fresh), token=None)
    assert pulled.returncode == 0, pulled.stderr
    copy = fresh / "papers" / second.name
    assert pulled.stdout.splitlines()[0] == (f"pulled {second.name} from {TARGET} (commit "
                                             f"{hub.repos[REPO].head.sha}) into {copy}; LATEST was unset")
    assert files_of(copy) == files_of(second)  # no .gitattributes
    assert (fresh / "papers" / "LATEST").read_text() == f"{second.name}\n"
    verify = paperset(hub, home, "verify", str(copy))
    assert verify.returncode == 0 and verify.stdout == f"{copy}: verified\n"
    older = paperset(hub, home, "pull", TARGET, "--revision", first.name, "--out", str(fresh), "--name", "old")
    assert older.returncode == 0, older.stderr
    assert files_of(fresh / "old" / first.name) == files_of(first)

    # The scheduled run on the fresh machine continues the dataset, and the Hub takes it.
    spool = make_spool(tmp_path / "spool-c", corpus_path, 90)
    result = subprocess.run([str(ROOT / ".venv/bin/paperset"), "package", "--spool", str(spool), "--out", str(fresh),
                             "--name", "papers"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    third = version_of(fresh, "papers")
    assert json.loads((third / "manifest.json").read_text())["parent"] == second.name
    up = paperset(hub, home, "publish", str(third), TARGET, "--upload")
    assert up.returncode == 0, up.stderr
    assert hub.repos[REPO].tags[third.name] == hub.repos[REPO].head.sha


def test_pull_restores_the_dedupe_index(tmp_path, corpus_path, hub) -> None:
    version = build(tmp_path, corpus_path, "a", 20)
    index = files_of(version) | {"dedupe-index/bands.bin": b"\x00\x01index"}
    hub.create(REPO)
    repo = hub.repos[REPO]
    manifest = json.loads(index["manifest.json"])
    manifest["files"]["dedupe-index/bands.bin"] = {"sha256": __import__("hashlib").sha256(b"\x00\x01index").hexdigest(),
                                                   "bytes": 7}
    index["manifest.json"] = json.dumps(manifest).encode()
    hub._commit(repo, index, [], "by hand")
    pulled = paperset(hub, tmp_path / "home", "pull", TARGET, "--out", str(tmp_path / "fresh"))
    assert pulled.returncode == 0, pulled.stderr
    pulled_index = tmp_path / "fresh/papers" / manifest["version"] / "dedupe-index"
    assert pulled.stdout.splitlines()[1] == f"the next run starts from its near-dup index {pulled_index}"
    assert (pulled_index / "bands.bin").read_bytes() == b"\x00\x01index"
    # A corrupted file on the Hub: nothing is placed.
    part = next(name for name in sorted(index) if name.startswith("papers/"))
    index[part] = b"broken"
    hub._commit(repo, {part: b"broken"}, [], "broken")
    bad = paperset(hub, tmp_path / "home", "pull", TARGET, "--out", str(tmp_path / "fresh2"))
    assert bad.returncode == 1 and "does not verify" in bad.stderr and "Traceback" not in bad.stderr
    assert [p.name for p in (tmp_path / "fresh2" / "papers").iterdir() if not p.name.startswith(".")] == []


def test_private_repository_token_and_failures_are_one_line(tmp_path, corpus_path, hub) -> None:
    home = tmp_path / "home"
    version = build(tmp_path, corpus_path, "a", 20)
    up = paperset(hub, home, "publish", str(version), TARGET, "--upload", "--private")
    assert up.returncode == 0, up.stderr
    assert hub.repos[REPO].private is True
    hub.create("someone/open")
    public = paperset(hub, home, "publish", str(version), "hf://datasets/someone/open", "--upload", "--private")
    assert public.returncode == 1 and "exists and is public" in public.stderr
    assert len(hub.repos["someone/open"].commits) == 1
    no_token = paperset(hub, home, "publish", str(version), "hf://datasets/someone/two", "--upload", token=None)
    assert no_token.returncode == 1
    assert no_token.stderr == "paperset publish: no Hugging Face token: set HF_TOKEN or log in with `hf auth login`\n"
    wrong = paperset(hub, home, "publish", str(version), "hf://datasets/someone/two", "--upload", token="hf_wrong")
    assert wrong.returncode == 1 and wrong.stderr.count("\n") == 1 and "401" in wrong.stderr
    assert "someone/two" not in hub.repos
    down = paperset(None, home, "publish", str(version), TARGET, "--upload")
    assert down.returncode == 1 and down.stderr.count("\n") == 1
    assert down.stderr.startswith("paperset publish: the Hub at http://127.0.0.1:9 answered: ")


def test_the_next_version_comes_after_a_pulled_parent(tmp_path) -> None:
    from paperset.packager.build import next_version

    pulled, older = tmp_path / "pulled", tmp_path / "older"
    pulled.mkdir()
    assert next_version(pulled, "2026-11-30") == "2026.11.30"
    (pulled / "2026.11.30.2").mkdir()  # pulled: the only local version of its day
    (pulled / "LATEST").write_text("2026.11.30.2\n")
    assert next_version(pulled, "2026-11-30") == "2026.11.30.03"  # zero-padded after an old-style name
    (older / "2026.11.29").mkdir(parents=True)
    (older / "LATEST").write_text("2026.11.29\n")
    assert next_version(older, "2026-11-30") == "2026.11.30"
    (older / "2026.11.30").mkdir()
    assert next_version(older, "2026-11-30") == "2026.11.30.02"


def test_a_commit_made_meanwhile_makes_the_hub_refuse(tmp_path, corpus_path, hub) -> None:
    version = build(tmp_path, corpus_path, "a", 20)
    hub.create(REPO)
    hub.before_commit = lambda repo: hub._commit(repo, {"other.txt": b"x"}, [], "someone else") \
        if len(repo.commits) == 1 else None
    result = paperset(hub, tmp_path / "home", "publish", str(version), TARGET, "--upload")
    assert result.returncode == 1 and result.stderr.count("\n") == 1 and "412" in result.stderr
    assert [c.summary for c in hub.repos[REPO].commits] == ["initial commit", "someone else"]
    assert hub.repos[REPO].tags == {}
