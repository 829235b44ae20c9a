"""The Hugging Face Hub side of a dataset: `publish` replaces a dataset repository's files with one
version in one commit (stale files deleted, refused unless the Hub holds this version's parent) and
tags it; `pull` brings a published version back as the local parent. huggingface_hub does the HTTP."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packager.build import check_target
from packager.errors import PackagerError
from packager.manifest import HUB_ADDED_FILES, MANIFEST, hub_added, problems
from packager.parent import LATEST, write_latest

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


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _hub_errors() -> tuple[type[BaseException], ...]:
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

    @property
    def empty(self) -> bool:
        return not (self.files.keys() - HUB_ONLY)


def _api(token: str | None = None) -> Any:
    from huggingface_hub import HfApi

    return HfApi(token=token)


def _download(api: Any, repo_id: str, path: str, sha: str, cache: Path) -> Path:
    return Path(api.hf_hub_download(repo_id, path, repo_type="dataset", revision=sha, cache_dir=str(cache)))


def hub_state(api: Any, repo_id: str, cache: Path, revision: str = "main") -> HubState:
    """Read the repository at `revision`; a missing repository is `exists=False`."""
    from huggingface_hub.errors import RepositoryNotFoundError

    try:
        info = api.dataset_info(repo_id, revision=revision)
    except RepositoryNotFoundError:
        return HubState(exists=False)
    files = {f.path: f.size for f in api.list_repo_tree(repo_id, repo_type="dataset", revision=info.sha,
                                                        recursive=True) if hasattr(f, "size")}
    version = None
    if MANIFEST in files:
        version = json.loads(_download(api, repo_id, MANIFEST, info.sha, cache).read_text(encoding="utf-8"))["version"]
    tags = {t.name: t.target_commit for t in api.list_repo_refs(repo_id, repo_type="dataset").tags}
    return HubState(exists=True, sha=info.sha, files=files, version=version, private=info.private, tags=tags)


def local_files(version_dir: Path) -> dict[str, int]:
    """Every file of the version folder (the manifest included, the files the Hub adds not), by path in
    the repository."""
    return {name: p.stat().st_size for p in sorted(version_dir.rglob("*"))
            if p.is_file() and not hub_added(name := p.relative_to(version_dir).as_posix())}


def parent_problem(state: HubState, version: str, parent: str | None) -> str | None:
    """Why publishing `version` (whose parent is `parent`) over `state` would damage the dataset, or None."""
    if not state.exists or state.empty:
        return None
    if state.version is None:
        return "the repository holds files but no paperset manifest.json (--force replaces them)"
    if state.version == parent:
        return None
    return (f"the Hub holds version {state.version}, and {version}'s parent is {parent or 'none (a first version)'}"
            f": publishing would replace a dataset this version does not continue (pull it first, or --force)")


def publish(version_dir: Path, target: str, *, upload: bool, force: bool = False, private: bool = False) -> list[str]:
    """Publish (or, without `upload`, say how it would publish) a verified version to the Hub; the lines to
    print. PackagerError with one line when it cannot or must not."""
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
    api = _api(token)
    with tempfile.TemporaryDirectory(prefix="paperset-hub-") as cache:
        try:
            return _publish(api, repo_id, target, version_dir, version, parent, Path(cache),
                            upload=upload, force=force, private=private)
        except _hub_errors() as exc:
            raise PackagerError(f"the Hub at {api.endpoint} answered: {_one_line(exc)}") from None


def _publish(api: Any, repo_id: str, target: str, version_dir: Path, version: str, parent: str | None,
             cache: Path, *, upload: bool, force: bool, private: bool) -> list[str]:
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    state = hub_state(api, repo_id, cache)
    mine = local_files(version_dir)
    stale = sorted(state.files.keys() - mine.keys() - HUB_ONLY)
    message = f"paperset {version}"
    if state.version == version:
        if upload:
            api.create_tag(repo_id, tag=version, revision=state.sha, repo_type="dataset", exist_ok=True)
        return [f"{target} already holds {version} (commit {state.sha}): nothing to upload"]
    if private and state.exists and state.private is False:
        raise PackagerError(f"refused: {target} exists and is public; --private only makes a new repository private "
                            "(change its visibility on the Hub)")
    problem = parent_problem(state, version, parent)
    if problem is None and version in state.tags:
        problem = f"the tag {version} already exists on the Hub (commit {state.tags[version]}) (--force moves it)"
    if problem and not force:
        raise PackagerError(f"refused: {problem}")
    held = (f"the Hub holds {state.version or 'no version'} (commit {state.sha})" if state.exists
            else "the repository does not exist yet: it would be created" + (" (private)" if private else ""))
    if not upload:
        lines = [f"would upload {version_dir} to {target} ({message}); pass --upload to do it", f"  {held}"]
        lines += [f"  add     {path}  {size:,} bytes" for path, size in mine.items()]
        lines += [f"  delete  {path}  {state.files[path]:,} bytes" for path in stale]
        lines.append(f"  {len(mine)} files, {sum(mine.values()):,} bytes; {len(stale)} deleted; then tag {version}"
                     + (" (forced over the parent check)" if problem else ""))
        return lines
    if not state.exists:
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        state = hub_state(api, repo_id, cache)
        stale = sorted(state.files.keys() - mine.keys() - HUB_ONLY)
    operations: list[Any] = [CommitOperationAdd(path_in_repo=path, path_or_fileobj=str(version_dir / path))
                             for path in mine]
    operations += [CommitOperationDelete(path_in_repo=path) for path in stale]
    # parent_commit: the Hub refuses the commit if main moved since it was checked.
    commit = api.create_commit(repo_id, operations=operations, commit_message=message, repo_type="dataset",
                               commit_description=f"parent version: {parent or 'none'}", parent_commit=state.sha)
    if version in state.tags:  # only when forced
        api.delete_tag(repo_id, tag=version, repo_type="dataset")
    api.create_tag(repo_id, tag=version, revision=commit.oid, repo_type="dataset")
    return [f"uploaded {version_dir} to {target} (commit {commit.oid}, tag {version}): {len(mine)} files, "
            f"{len(stale)} deleted" + (", forced over the parent check" if problem else "")]


def pull(target: str, root: Path, name: str | None = None, revision: str | None = None) -> list[str]:
    """Download a published version (main, or a tag/commit) into ROOT/NAME/<version>, check it against its
    manifest, make it LATEST and restore the dedupe index from it; the lines to print."""
    from packager.lock import dataset_lock

    repo_id = parse_target(target)
    dataset = check_target(root, name or repo_id.split("/")[1])
    api = _api()
    with dataset_lock(dataset), tempfile.TemporaryDirectory(prefix="paperset-hub-") as cache:
        try:
            return _pull(api, repo_id, target, dataset, revision or "main", Path(cache))
        except _hub_errors() as exc:
            raise PackagerError(f"the Hub at {api.endpoint} answered: {_one_line(exc)}") from None


def _pull(api: Any, repo_id: str, target: str, dataset: Path, revision: str, cache: Path) -> list[str]:
    state = hub_state(api, repo_id, cache, revision)
    if not state.exists:
        raise PackagerError(f"{target} does not exist (or the token cannot read it)")
    if state.version is None or state.sha is None:
        raise PackagerError(f"{target} at {revision} holds no paperset manifest.json")
    version = state.version
    final = dataset / version
    if final.exists():
        found = problems(final)
        if found:
            raise PackagerError(f"{final} exists and does not verify: {found}")
    else:
        manifest = json.loads(_download(api, repo_id, MANIFEST, state.sha, cache).read_text(encoding="utf-8"))
        tmp = dataset / f".tmp-pull-{os.getpid()}-{time.monotonic_ns()}"
        try:
            for path in [MANIFEST, *manifest.get("files", {})]:
                destination = tmp / path
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(_download(api, repo_id, path, state.sha, cache), destination)
            found = problems(tmp)
            if found:
                raise PackagerError(f"the copy of {version} from {target} does not verify: {found}")
            Path(tmp).rename(final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    before = (dataset / LATEST).read_text(encoding="utf-8").strip() if (dataset / LATEST).exists() else None
    write_latest(dataset, version)
    lines = [f"pulled {version} from {target} (commit {state.sha}) into {final}; LATEST was {before or 'unset'}"]
    if (final / "dedupe-index").is_dir():
        lines.append(f"the next run starts from its near-dup index {final / 'dedupe-index'}")
    return lines
