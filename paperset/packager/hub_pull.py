"""`paperset pull`: bring a version published on the Hub back as the local parent (paperset/packager/hub.py
publishes it)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from paperset.packager.build import check_target
from paperset.packager.errors import PackagerError
from paperset.packager.hub import api_client, download_file, hub_errors, hub_state, one_line, parse_target
from paperset.packager.manifest import MANIFEST, problems, sha256
from paperset.packager.parent import LATEST, write_latest


def pull(target: str, root: Path, name: str | None = None, revision: str | None = None) -> list[str]:
    """Download a published version (main, or a tag/commit) into ROOT/NAME/<version>, check it against its
    manifest, make it LATEST and restore the dedupe index from it; the lines to print."""
    from paperset.packager.lock import dataset_lock

    repo_id = parse_target(target)
    dataset = check_target(root, name or repo_id.split("/")[1])
    api = api_client()
    with dataset_lock(dataset), tempfile.TemporaryDirectory(prefix="paperset-hub-") as cache:
        try:
            return _pull(api, repo_id, target, dataset, revision or "main", Path(cache))
        except hub_errors() as exc:
            raise PackagerError(f"the Hub at {api.endpoint} answered: {one_line(exc)}") from None


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
        if sha256(final / MANIFEST) != state.manifest_sha:
            raise PackagerError(f"refused: {final} holds a different {version} (manifest sha256 "
                                f"{sha256(final / MANIFEST)}) than {target} at {revision} (manifest sha256 "
                                f"{state.manifest_sha}): nothing pulled")
    else:
        manifest = json.loads(download_file(api, repo_id, MANIFEST, state.sha, cache).read_text(encoding="utf-8"))
        tmp = dataset / f".tmp-pull-{os.getpid()}-{time.monotonic_ns()}"
        try:
            for path in [MANIFEST, *manifest.get("files", {})]:
                destination = tmp / path
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(download_file(api, repo_id, path, state.sha, cache), destination)
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
