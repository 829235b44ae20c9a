"""A version under another name, for `paperset publish --as-new-version`: when the Hub already holds a
different dataset under this version's name, a renamed copy is written beside the version and published
instead. The name is in the manifest (`version`, plus `renamed_from`), the card, CHANGES.md and
croissant.json; every other file of the copy is the same bytes. The original is never rewritten."""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Collection
from pathlib import Path

from paperset.packager.errors import PackagerError
from paperset.packager.manifest import HUB_ADDED_FILES, HUB_ADDED_FOLDER, MANIFEST, file_entries, problems, sha256
from paperset.packager.parent import LATEST, SEQUENCE_DIGITS, version_order, write_latest
from paperset.spool.writer import write_json_atomic

# The files of a version whose text names it (besides the manifest).
NAMED_IN = ("README.md", "CHANGES.md", "croissant.json")
_SERIES = re.compile(r"^(\d{4}\.\d{2}\.\d{2})(?:\.(\d{1,6}))?$")


def next_free_name(version: str, taken: Collection[str]) -> str:
    """The next name of the version's day series not in `taken`: `2026.12.05` -> `2026.12.05.02`,
    `2026.12.05.02` (or the older `2026.12.05.2`) -> `2026.12.05.03`, zero-padded as paperset/packager/build.py's
    `next_version` names them, so it sorts after the name it replaces; other names get `.2`, `.3`..."""
    match = _SERIES.match(version)
    if match is None:
        n = 2
        while f"{version}.{n}" in taken:
            n += 1
        return f"{version}.{n}"
    orders = {version_order(name) for name in taken if _SERIES.match(name)}
    n = int(match.group(2) or 1) + 1
    while version_order(f"{match.group(1)}.{n}") in orders:
        n += 1
    return f"{match.group(1)}.{n:0{SEQUENCE_DIGITS}d}"


def rename_text(text: str, old: str, new: str) -> str:
    """`old` replaced by `new` where it stands as a version name (not inside a longer name such as
    `old.2`), and in the BibTeX key (`@misc{NAME_2026_12_05,`)."""
    text = re.sub(rf"(?<![\w.]){re.escape(old)}(?![\w-]|\.\w)", new, text)
    key_old, key_new = (re.sub(r"[^A-Za-z0-9]+", "_", v).strip("_") for v in (old, new))
    return re.sub(rf"(@misc\{{[^,\s]*_){re.escape(key_old)},", lambda m: f"{m.group(1)}{key_new},", text)


def earlier_copy(folder: Path, manifest_sha: str) -> Path | None:
    """A renamed copy of the version whose manifest has `manifest_sha`, made by an earlier attempt and
    still verifying (its name is then reused rather than a third one made)."""
    for candidate in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            made = json.loads((candidate / MANIFEST).read_text(encoding="utf-8")).get("renamed_from") or {}
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(made, dict) and made.get("manifest_sha256") == manifest_sha and not problems(candidate):
            return candidate
    return None


def renamed_copy(version_dir: Path, new: str, into: Path) -> Path:
    """Write `into/new`: the version renamed `new` (through a hidden folder, verified, then renamed into
    place). The files the Hub adds are not copied. PackagerError when the copy does not verify."""
    manifest = json.loads((version_dir / MANIFEST).read_text(encoding="utf-8"))
    old, final = manifest["version"], into / new
    if final.exists():
        raise PackagerError(f"cannot write the renamed copy: {final} exists")
    tmp = into / f".tmp-rename-{os.getpid()}-{time.monotonic_ns()}"
    try:
        shutil.copytree(version_dir, tmp, symlinks=False)
        for name in HUB_ADDED_FILES:
            (tmp / name).unlink(missing_ok=True)
        shutil.rmtree(tmp / HUB_ADDED_FOLDER, ignore_errors=True)
        for name in NAMED_IN:
            path = tmp / name
            if path.is_file():
                text = path.read_text(encoding="utf-8")
                path.unlink()  # a new file, whatever the copy shares with the original
                path.write_text(rename_text(text, old, new), encoding="utf-8")
        manifest.update(version=new, renamed_from={"version": old, "manifest_sha256": sha256(version_dir / MANIFEST)},
                        files=file_entries(tmp))
        write_json_atomic(tmp / MANIFEST, manifest)
        found = problems(tmp)
        if found:
            raise PackagerError(f"the renamed copy of {version_dir} does not verify: {found}")
        tmp.rename(final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def adopt(dataset: Path, old: str, new: str) -> bool:
    """Point the dataset's LATEST at the renamed copy when it named the original (the next run continues
    what the Hub holds); whether it moved."""
    pointer = dataset / LATEST
    if pointer.is_file() and pointer.read_text(encoding="utf-8").strip() == old:
        write_latest(dataset, new)
        return True
    return False
