"""The Hugging Face Hub side of a dataset: `publish` replaces a dataset repository's files with one
version in one commit (stale files deleted, refused unless the Hub holds this version's parent, refused
when the Hub holds another dataset under this version's name) and tags it; reading what the Hub holds
(shared with `pull`, paperset/packager/hub_pull.py). huggingface_hub does the HTTP."""

from __future__ import annotations

import json
import re
import tempfile
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paperset.packager.errors import PackagerError
from paperset.packager.manifest import HUB_ADDED_FILES, MANIFEST, hub_added, problems, sha256
from paperset.packager.parent import LATEST

PREFIX = "hf://datasets/"
# The Hub's rule for a name part (huggingface_hub.utils.validate_repo_id): letters, digits, '-', '_', '.',
# no leading or trailing '-'/'.', no '--' or '..', at most 96 characters.
_PART = re.compile(r"^(?!.*(--|\.\.))[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?$")
# Files the Hub keeps that are not part of a version: never deleted, never pulled, never uploaded.
HUB_ONLY = HUB_ADDED_FILES


def parse_target(target: str) -> str:
    """`hf://datasets/OWNER/NAME` -> `OWNER/NAME`; ValueError with the reason when it is not one."""
    if not target.startswith(PREFIX):
        raise ValueError(f"{target!r} is not hf://datasets/OWNER/NAME")
    parts = target.removeprefix(PREFIX).split("/")
    if len(parts) != 2 or not all(_PART.match(p) for p in parts):
        raise ValueError(f"bad Hub dataset id in {target!r}: OWNER/NAME, each of letters, digits, '-', '_', '.' "
                         "(at most 96, no '--' or '..', not starting or ending with '-' or '.')")
    return "/".join(parts)


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def hub_errors() -> tuple[type[BaseException], ...]:
    import httpx2
    from huggingface_hub.errors import HfHubHTTPError

    return (HfHubHTTPError, httpx2.HTTPError, OSError, ValueError)


@dataclass
class HubState:
    """What the repository's main branch holds: its head commit, its files with sizes, its version."""

    exists: bool
    sha: str | None = None
    files: dict[str, int] = field(default_factory=dict)
    version: str | None = None
    private: bool | None = None
    tags: dict[str, str] = field(default_factory=dict)
    manifest_sha: str | None = None  # sha256 of main's manifest.json
    parent: str | None = None  # the parent its manifest names
    listed: dict[str, Any] = field(default_factory=dict)  # main's manifest's file entries
    lfs: dict[str, str] = field(default_factory=dict)  # sha256 of the files the Hub keeps in LFS/Xet

    @property
    def empty(self) -> bool:
        return not (self.files.keys() - HUB_ONLY)


def api_client(token: str | None = None) -> Any:
    from huggingface_hub import HfApi

    return HfApi(token=token)


def download_file(api: Any, repo_id: str, path: str, sha: str, cache: Path) -> Path:
    return Path(api.hf_hub_download(repo_id, path, repo_type="dataset", revision=sha, cache_dir=str(cache)))


def hub_state(api: Any, repo_id: str, cache: Path, revision: str = "main") -> HubState:
    """Read the repository at `revision`; a missing repository is `exists=False`."""
    from huggingface_hub.errors import RepositoryNotFoundError

    try:
        info = api.dataset_info(repo_id, revision=revision)
    except RepositoryNotFoundError:
        return HubState(exists=False)
    tree = [f for f in api.list_repo_tree(repo_id, repo_type="dataset", revision=info.sha, recursive=True)
            if hasattr(f, "size")]
    files = {f.path: f.size for f in tree}
    lfs = {f.path: f.lfs.sha256 for f in tree if getattr(f, "lfs", None) is not None}
    version = digest = parent = None
    listed: dict[str, Any] = {}
    if MANIFEST in files:
        path = download_file(api, repo_id, MANIFEST, info.sha, cache)
        manifest = json.loads(path.read_text(encoding="utf-8"))
        version, parent, digest = manifest["version"], manifest.get("parent"), sha256(path)
        listed = manifest.get("files") if isinstance(manifest.get("files"), dict) else {}
    tags = {t.name: t.target_commit for t in api.list_repo_refs(repo_id, repo_type="dataset").tags}
    return HubState(exists=True, sha=info.sha, files=files, version=version, private=info.private, tags=tags,
                    manifest_sha=digest, parent=parent, listed=listed, lfs=lfs)


def held_files(state: HubState, listed: dict[str, Any], mine: dict[str, int]) -> set[str]:
    """The version's files the Hub's main already holds, same path and same content: the same size, and
    the same sha256 as the version's manifest says, by the Hub's LFS/Xet pointer when it has one, else by
    the manifest the Hub holds. They are left out of the commit (a commit keeps what it does not touch),
    so a night's upload is the night's new files."""
    held = set()
    for path, size in mine.items():
        ours = listed.get(path) or {}
        theirs = state.lfs.get(path) or (state.listed.get(path) or {}).get("sha256")
        if path in state.files and state.files[path] == size and ours.get("sha256") and theirs == ours["sha256"]:
            held.add(path)
    return held


def held_manifest(api: Any, repo_id: str, state: HubState, version: str, cache: Path) -> str | None:
    """The sha256 of the manifest the Hub holds under the name `version` (on main, or at the commit its
    tag names); None when it holds no such name."""
    from huggingface_hub.errors import EntryNotFoundError

    if state.version == version:
        return state.manifest_sha
    if version not in state.tags:
        return None
    try:
        return sha256(download_file(api, repo_id, MANIFEST, state.tags[version], cache))
    except EntryNotFoundError:
        return "none (no manifest.json)"


def local_files(version_dir: Path) -> dict[str, int]:
    """Every file of the version folder (the manifest included, the files the Hub adds not), by path in
    the repository."""
    return {name: p.stat().st_size for p in sorted(version_dir.rglob("*"))
            if p.is_file() and not hub_added(name := p.relative_to(version_dir).as_posix())}


def parent_problem(state: HubState, version: str, parent: str | None, replaces: str | None = None) -> str | None:
    """Why publishing `version` (whose parent is `parent`) over `state` would damage the dataset, or None.
    `replaces` (--as-new-version): the version name this one is renamed from; a Hub holding that name
    with the same parent holds a sibling of this version, which it may replace."""
    if not state.exists or state.empty:
        return None
    if replaces is not None and state.version == replaces and state.parent == parent:
        return None
    if state.version is None:
        return "the repository holds files but no paperset manifest.json (--force replaces them)"
    if state.version == parent:
        return None
    return (f"the Hub holds version {state.version}, and {version}'s parent is {parent or 'none (a first version)'}"
            f": publishing would replace a dataset this version does not continue (pull it first, or --force)")


def publish(version_dir: Path, target: str, *, upload: bool, force: bool = False, private: bool = False,
            as_new_version: bool = False) -> list[str]:
    """Publish (or, without `upload`, say how it would publish) a verified version to the Hub; the lines to
    print. PackagerError with one line when it cannot or must not. `as_new_version`: when the Hub holds
    another dataset under this version's name, publish a renamed copy (paperset/packager/rename.py) instead."""
    repo_id = parse_target(target)
    found = problems(version_dir)
    if found:
        raise PackagerError(f"{version_dir} does not verify: {found}")
    manifest = json.loads((version_dir / MANIFEST).read_text(encoding="utf-8"))
    version, parent = manifest["version"], manifest.get("parent")
    from huggingface_hub import get_token

    token = get_token()
    if upload and not token:
        raise PackagerError("no Hugging Face token: set HF_TOKEN or log in with `hf auth login`")
    api = api_client(token)
    with tempfile.TemporaryDirectory(prefix="paperset-hub-") as cache:
        try:
            return _publish(api, repo_id, target, version_dir, version, parent, Path(cache),
                            upload=upload, force=force, private=private, as_new_version=as_new_version)
        except hub_errors() as exc:
            raise PackagerError(f"the Hub at {api.endpoint} answered: {one_line(exc)}") from None


def _publish(api: Any, repo_id: str, target: str, version_dir: Path, version: str, parent: str | None,
             cache: Path, *, upload: bool, force: bool, private: bool, as_new_version: bool = False,
             replaces: str | None = None) -> list[str]:
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    state = hub_state(api, repo_id, cache)
    mine = local_files(version_dir)
    stale = sorted(state.files.keys() - mine.keys() - HUB_ONLY)
    message = f"paperset {version}"
    ours, held = sha256(version_dir / MANIFEST), held_manifest(api, repo_id, state, version, cache)
    if state.version == version and held == ours:
        if upload:
            api.create_tag(repo_id, tag=version, revision=state.sha, repo_type="dataset", exist_ok=True)
        return [f"{target} already holds {version} (commit {state.sha}): nothing to upload"]
    if private and state.exists and state.private is False:
        raise PackagerError(f"refused: {target} exists and is public; --private only makes a new repository private "
                            "(change its visibility on the Hub)")
    problem = parent_problem(state, version, parent, replaces)
    if held is not None and held != ours:
        clash = (f"the Hub holds a different {version} (manifest sha256 {held}) than {version_dir} (manifest sha256 "
                 f"{ours})")
        if as_new_version:
            return _publish_renamed(api, repo_id, target, version_dir, state, clash, cache, upload=upload,
                                    force=force, private=private)
        if not force and (problem is None or state.version == version):
            raise PackagerError(f"refused: {clash}: a version name stands for one dataset (--as-new-version "
                                "publishes this one under the next free name, --force replaces it)")
    if problem is None and version in state.tags:
        problem = f"the tag {version} already exists on the Hub (commit {state.tags[version]}) (--force moves it)"
    if problem and not force:
        raise PackagerError(f"refused: {problem}")
    held = held_files(state, json.loads((version_dir / MANIFEST).read_text(encoding="utf-8")).get("files") or {}, mine)
    if not upload:
        lines = _dry_run(state, version_dir, target, version, {p: s for p, s in mine.items() if p not in held}, stale,
                         forced=bool(problem), private=private)
        return lines[:-1] + ([f"  {len(held)} files the Hub already holds would not be sent"] if held else []) \
            + lines[-1:]
    if not state.exists:
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        state = hub_state(api, repo_id, cache)
        stale = sorted(state.files.keys() - mine.keys() - HUB_ONLY)
    operations: list[Any] = [CommitOperationAdd(path_in_repo=path, path_or_fileobj=str(version_dir / path))
                             for path in mine if path not in held]
    operations += [CommitOperationDelete(path_in_repo=path) for path in stale]
    # parent_commit: the Hub refuses the commit if main moved since it was checked.
    commit = api.create_commit(repo_id, operations=operations, commit_message=message, repo_type="dataset",
                               commit_description=f"parent version: {parent or 'none'}", parent_commit=state.sha)
    if version in state.tags:  # only when forced
        api.delete_tag(repo_id, tag=version, repo_type="dataset")
    api.create_tag(repo_id, tag=version, revision=commit.oid, repo_type="dataset")
    sent = sum(size for path, size in mine.items() if path not in held)
    return [f"uploaded {version_dir} to {target} (commit {commit.oid}, tag {version}): {len(mine)} files, "
            f"{len(stale)} deleted" + (", forced over the parent check" if problem else "")] + (
        [f"  {len(held)} files the Hub already held were not sent; {sent:,} bytes sent"] if held else [])


def _dry_run(state: HubState, version_dir: Path, target: str, version: str, mine: dict[str, int], stale: list[str],
             *, forced: bool, private: bool) -> list[str]:
    """What publishing would do: what the Hub holds, every file added (with its size) or deleted, the tag."""
    held = (f"the Hub holds {state.version or 'no version'} (commit {state.sha})" if state.exists
            else "the repository does not exist yet: it would be created" + (" (private)" if private else ""))
    lines = [f"would upload {version_dir} to {target} (paperset {version}); pass --upload to do it", f"  {held}"]
    lines += [f"  add     {path}  {size:,} bytes" for path, size in mine.items()]
    lines += [f"  delete  {path}  {state.files[path]:,} bytes" for path in stale]
    return [*lines, f"  {len(mine)} files, {sum(mine.values()):,} bytes; {len(stale)} deleted; then tag {version}"
            + (" (forced over the parent check)" if forced else "")]


def _dataset_lock(folder: Path) -> AbstractContextManager[None]:
    """The dataset's lock when `folder` is a dataset (it has LATEST), else nothing to hold."""
    from paperset.packager.lock import dataset_lock

    return dataset_lock(folder) if (folder / LATEST).is_file() else nullcontext()


def _publish_renamed(api: Any, repo_id: str, target: str, version_dir: Path, state: HubState, clash: str,
                     cache: Path, *, upload: bool, force: bool, private: bool) -> list[str]:
    """--as-new-version: publish a renamed copy of the version (written beside it; a dry run writes it in
    a temporary folder) under the next name the Hub and the folder do not hold; LATEST follows."""
    from paperset.packager import rename

    manifest = json.loads((version_dir / MANIFEST).read_text(encoding="utf-8"))
    folder, version, parent = version_dir.resolve().parent, manifest["version"], manifest.get("parent")
    taken = {*state.tags, state.version or "", *(p.name for p in folder.iterdir())}
    with _dataset_lock(folder) if upload else nullcontext():
        copy = rename.earlier_copy(folder, sha256(version_dir / MANIFEST))
        new = copy.name if copy else rename.next_free_name(version, taken)
        if copy is None and upload:
            copy = rename.renamed_copy(version_dir, new, folder)
    head = f"{clash}: " + ("published" if upload else "would publish it") + f" as {new}, a renamed copy {folder / new}"
    with tempfile.TemporaryDirectory(prefix="paperset-rename-") as scratch:
        lines = _publish(api, repo_id, target, copy or rename.renamed_copy(version_dir, new, Path(scratch)), new,
                         parent, cache, upload=upload, force=force, private=private, replaces=version)
    if not upload:
        return [head, *lines[1:]]
    with _dataset_lock(folder):
        moved = rename.adopt(folder, version, new)
    return [head, *lines] + ([f"{folder / LATEST} now names {new}"] if moved else [])
