"""`paperset publish`: copy a verified version to where users download it: a local folder (a mirror,
a mounted bucket) or a Hugging Face dataset repository (huggingface_hub, only with --upload)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from packager.manifest import problems
from packager.parent import write_latest
from packager.publish import PackagerError


def publish_to_folder(version_dir: Path, target: Path) -> Path:
    """Copy the version under `target/<version>` (through a hidden temporary folder and a rename), then
    point `target/LATEST` at it. An existing copy of the same version is checked, never overwritten."""
    found = problems(version_dir)
    if found:
        raise PackagerError(f"{version_dir} does not verify: {found}")
    target.mkdir(parents=True, exist_ok=True)
    final = target / version_dir.name
    if final.exists():
        if problems(final):
            raise PackagerError(f"{final} exists and does not verify: {problems(final)}")
    else:
        tmp = target / f".tmp-{version_dir.name}-{os.getpid()}"
        shutil.copytree(version_dir, tmp)
        os.rename(tmp, final)
    write_latest(target, version_dir.name)
    return final


def publish_to_hub(version_dir: Path, repo_id: str, *, upload: bool, token: str | None = None) -> str:
    """Upload the version folder to a Hugging Face dataset repository (its card becomes the repo's
    README). Without `upload`, only says what it would do."""
    found = problems(version_dir)
    if found:
        raise PackagerError(f"{version_dir} does not verify: {found}")
    message = f"paperset {version_dir.name}"
    if not upload:
        return f"would upload {version_dir} to hf://datasets/{repo_id} ({message}); pass --upload to do it"
    from huggingface_hub import HfApi

    api = HfApi(token=token or os.environ.get("HF_TOKEN"))
    api.create_repo(repo_id, repo_type="dataset", exist_ok=True)
    api.upload_folder(folder_path=str(version_dir), repo_id=repo_id, repo_type="dataset", commit_message=message,
                      ignore_patterns=["dedupe-index/*"])
    api.create_tag(repo_id, tag=version_dir.name, repo_type="dataset", exist_ok=True)
    return f"uploaded {version_dir} to hf://datasets/{repo_id} (tag {version_dir.name})"
