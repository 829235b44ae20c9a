"""`paperset publish` to a folder: copy a verified version to where users download it (a mirror, a
mounted bucket). A Hugging Face dataset repository is paperset/packager/hub.py."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from paperset.packager.errors import PackagerError
from paperset.packager.manifest import MANIFEST, problems, sha256
from paperset.packager.parent import write_latest


def publish_to_folder(version_dir: Path, target: Path) -> Path:
    """Copy the version under `target/<version>` (through a hidden temporary folder and a rename), then
    point `target/LATEST` at it. An existing copy of the same version is checked, never overwritten; one
    of another dataset under the same name (another manifest) is a refusal."""
    found = problems(version_dir)
    if found:
        raise PackagerError(f"{version_dir} does not verify: {found}")
    target.mkdir(parents=True, exist_ok=True)
    final = target / version_dir.name
    if final.exists():
        if problems(final):
            raise PackagerError(f"{final} exists and does not verify: {problems(final)}")
        theirs, ours = sha256(final / MANIFEST), sha256(version_dir / MANIFEST)
        if theirs != ours:
            raise PackagerError(f"refused: {final} holds a different {final.name} (manifest sha256 {theirs}) than "
                                f"{version_dir} (manifest sha256 {ours})")
    else:
        tmp = target / f".tmp-{version_dir.name}-{os.getpid()}"
        shutil.copytree(version_dir, tmp)
        tmp.rename(final)
    write_latest(target, version_dir.name)
    return final

