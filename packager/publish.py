"""Package spools into the next version: build it in a hidden folder beside the target, verify it,
rename it into place, then move the `LATEST` pointer. A published version is never rewritten."""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import shutil
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from packager import card, changes, manifest
from packager.croissant import croissant
from packager.errors import BadTarget, PackagerError
from packager.fold import FoldStats, fold
from packager.parent import (
    LATEST,
    ParentError,
    clear_publishing,
    mark_publishing,
    read_pointer,
    resolve_parent,
    write_latest,
)
from packager.schema import OBSERVATIONS, PAPERS, fingerprint
from spool.reader import SpoolError, read_meta
from spool.redact import redact
from spool.writer import write_json_atomic

logger = logging.getLogger(__name__)
MAX_NAME = 100
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# Longest output path accepted: room left under PATH_MAX (4096) for the version folders and their files.
MAX_ROOT_CHARS = 3_800


@dataclass
class PackageResult:
    version: str | None
    path: str | None
    parent: str | None
    changed: bool
    papers: int
    observations: int
    new_observations: int
    added: int
    removed: int
    changed_papers: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


STEPS = ("reading the parent version and the spools", "folding them into Parquet", "writing the card, changes and metadata",
         "writing the manifest", "verifying", "publishing")


class Progress:
    """A progress bar over the packaging steps on a terminal (tqdm), plain log lines otherwise.
    `PAPERSET_PACKAGER_STEP_DELAY` (seconds) widens the gaps between steps, for kill tests."""

    def __init__(self, show: bool | None = None) -> None:
        self.bar = None
        if sys.stderr.isatty() if show is None else show:
            from tqdm import tqdm

            self.bar = tqdm(total=len(STEPS), desc="packaging", unit="step", leave=False)

    def step(self, name: str) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(name)
            self.bar.update(1)
        else:
            logger.info("packaging: %s", name)
        delay = float(os.environ.get("PAPERSET_PACKAGER_STEP_DELAY", "0") or 0)
        if delay:
            time.sleep(delay)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def latest_health(dataset: Path) -> dict[str, Any] | None:
    """The health figures recorded in the latest version's manifest, if any."""
    version = latest(dataset)
    if version is None:
        return None
    try:
        return json.loads((dataset / version / manifest.MANIFEST).read_text(encoding="utf-8")).get("health")
    except (OSError, ValueError):
        return None


def latest(dataset: Path) -> str | None:
    """The published version `LATEST` points at, if any (None also when it names no version folder:
    packaging refuses such a dataset, see parent.py)."""
    try:
        return read_pointer(dataset)
    except ParentError:
        return None


def _order(version: str) -> tuple[int, ...]:
    """`2026.11.30` -> (2026, 11, 30, 1), `2026.11.30.2` -> (2026, 11, 30, 2): versions in publishing order."""
    return (*(int(p) for p in version.split(".") if p.isdigit()), 1)[:4]


def next_version(dataset: Path, today: str) -> str:
    """`YYYY.MM.DD`, then `YYYY.MM.DD.2`, `.3`... for more versions the same day; always after LATEST
    (a pulled parent may be the only local version of its day)."""
    base = today.replace("-", ".")
    parent = _order(latest(dataset) or "")
    n = 1
    while (dataset / (name := base if n == 1 else f"{base}.{n}")).exists() or _order(name) <= parent:
        n += 1
    return name


def dataset_path(root: Path, name: str) -> Path:
    """ROOT/NAME, once the name and the output folder are checked; creates nothing. BadTarget otherwise."""
    if len(name) > MAX_NAME:
        raise BadTarget(f"bad dataset name {name[:40]!r}...: {len(name)} characters, at most {MAX_NAME}")
    if not _NAME.match(name) or ".." in name:
        raise BadTarget(f"bad dataset name {name!r}: letters, digits, '.', '_' and '-' only, no '/' or '..'")
    text = str(root)
    if not text or "\0" in text or len(text) > MAX_ROOT_CHARS \
            or any(len(os.fsencode(part)) > 255 for part in root.parts):
        raise BadTarget(f"bad output folder {text[:60]!r}: empty, too long or with a name over 255 bytes")
    for folder in (root / name, root, *root.parents):
        if folder.exists() or folder.is_symlink():
            if not folder.is_dir():
                raise BadTarget(f"output folder {root / name}: {folder} is a file, not a folder")
            break
    return root / name


def check_target(root: Path, name: str) -> Path:
    """ROOT/NAME checked (dataset_path), created, writable, and rid of what a killed packager left."""
    dataset = dataset_path(root, name)
    try:
        dataset.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PackagerError(f"cannot create {dataset}: {exc}") from None
    if not os.access(dataset, os.W_OK):
        raise PackagerError(f"{dataset} is not writable")
    for stale in [*dataset.glob(".tmp-*"), *dataset.glob(".buckets-*")]:
        shutil.rmtree(stale, ignore_errors=True)  # left by a killed packager: never visible as a version
    return dataset


def _context(name: str, version: str, parent: str | None, stats: FoldStats, metas: list[dict],
             diff: changes.ChangeLog, recrawl_days: int, created_at: str,
             forced: list[str]) -> dict[str, Any]:
    days = sorted(stats.per_day.items())
    totals: Counter[str] = Counter()
    for meta in metas:
        for key, value in (meta.get("stats") or {}).items():
            if isinstance(value, int) and key.startswith("paperset/"):
                totals[key] += value

    def group(prefix: str) -> dict[str, int]:
        return {k[len(prefix):]: v for k, v in sorted(totals.items()) if k.startswith(prefix)}

    def described(schema: Any) -> list[dict[str, str]]:
        return [{"name": f.name, "type": str(f.type),
                 "description": card.escape_md((f.metadata or {}).get(b"description", b"").decode())} for f in schema]

    return {
        "name": name, "version": version, "parent": parent, "created_at": created_at,
        "forced": [card.escape_md(reason) for reason in forced],
        "rows": {"papers": stats.papers, "observations": stats.observations},
        "size_category": card.size_category(stats.papers),
        "sources": sorted({str(m.get("base_url")) for m in metas}) or ["(no new crawl)"],
        "papers_schema": described(PAPERS), "observations_schema": described(OBSERVATIONS),
        "runs": [{"run_id": m.get("run_id"), "base_url": m.get("base_url"), "started_at": m.get("started_at"),
                  "finished_at": m.get("finished_at"), "listings": len(m.get("listings") or [])} for m in metas],
        "fetch_paths": group("paperset/fetch/") or "none", "settings": manifest.public(
            {k: v for m in metas for k, v in (m.get("settings") or {}).items()}),
        "dedupe": metas[-1].get("dedupe") if metas else "n/a", "dedupe_outcomes": group("paperset/dedupe/"),
        "clustered": stats.clustered, "per_day": days,
        "gaps": card.gaps(days, card.asked_days([item for m in metas for item in m.get("listings") or []])),
        "table": card.table_rows(days),
        "bibtex": card.bibtex(name, version, created_at[:4], f"https://huggingface.co/datasets/OWNER/{name}"),
        "changes_summary": f"{diff.added} added, {diff.removed} removed, {diff.changed} changed.",
        "provisional": stats.provisional, "recrawl_days": recrawl_days,
        "rejected": sum(group("paperset/dropped/").values()), "code_version": manifest.code_version(),
        "sample": [{"key": card.escape_md(r["paper_key"]), "title": card.escape_md(r["title"])} for r in stats.sample],
        "missing": [card.escape_md(f"{r['kind']} {r['key']} ({r['reason']})") for r in missing_listings(metas)],
    }


def missing_listings(metas: list[dict]) -> list[dict[str, Any]]:
    """The listings the crawls asked for but did not get whole (the crawl's coverage report, in its
    stats), as {kind, key, reason}: recorded in the manifest and the card of a partial version."""
    return redact([{"kind": r["kind"], "key": r["key"], "reason": r["reason"]} for m in metas
                            for r in (m.get("stats") or {}).get("paperset/coverage") or []
                            if r.get("status") == "incomplete"])


def package(spools: list[Path], root: Path, name: str, *, now: datetime | None = None, allow_partial: bool = False,
            recrawl_days: int = 7, dedupe_index: Path | None = None, health: dict[str, Any] | None = None,
            forced: list[str] | None = None, progress: bool | None = None) -> PackageResult:
    """Publish the next version of ROOT/NAME from the spools and the parent version (see module doc)."""
    now = now or datetime.now(UTC)
    dataset = check_target(root, name)
    parent = resolve_parent(dataset)
    progress = Progress(progress)
    _step = progress.step
    _step(STEPS[0])
    parent_dir = dataset / parent if parent else None
    metas = [read_meta(s) for s in spools]
    tmp = dataset / f".tmp-{os.getpid()}-{time.monotonic_ns()}"
    created_at = now.isoformat(timespec="seconds")
    try:
        tmp.mkdir()
        _step(STEPS[1])
        # Hidden inside the temporary version, removed once CHANGES.md is written.
        diff = changes.ChangeLog(tmp / ".changes")
        stats = fold(spools, parent_dir, tmp, diff, today=now.date(), recrawl_days=recrawl_days,
                     allow_partial=allow_partial)
        diff.close()
        if parent and diff.empty and stats.new_observations == 0:
            shutil.rmtree(tmp, ignore_errors=True)
            progress.close()
            logger.info("nothing changed since %s: no new version", parent)
            return PackageResult(None, str(parent_dir), parent, False, stats.papers, stats.observations,
                                 0, 0, 0, 0)
        version = next_version(dataset, now.date().isoformat())
        _step(STEPS[2])
        card.chart(sorted(stats.per_day.items()), tmp / "papers_per_day.png")
        change_rows = diff.write_parquet(tmp / "changes")
        context = _context(name, version, parent, stats, metas, diff, recrawl_days, created_at, forced or [])
        context["example"] = card.example_row(tmp / "papers")
        (tmp / "README.md").write_text(card.render(context, card.front_matter(
            name, context["size_category"], tmp, {"papers": PAPERS, "observations": OBSERVATIONS,
                                                  "changes": changes.CHANGES})), encoding="utf-8")
        diff.write_markdown(tmp / "CHANGES.md", parent, version)
        diff.remove()
        description = f"Hugging Face Papers listings packaged by paperset: {stats.papers} papers."
        write_json_atomic(tmp / "croissant.json", croissant(name, version, description, {
            "papers": PAPERS, "observations": OBSERVATIONS, "changes": changes.CHANGES}, created_at,
            url=f"https://huggingface.co/datasets/OWNER/{name}", cite_as=context["bibtex"]))
        if dedupe_index is not None and dedupe_index.is_dir():
            # Hidden files are a killed save's temporary files, not the index.
            shutil.copytree(dedupe_index, tmp / "dedupe-index", ignore=shutil.ignore_patterns(".*"))
        _step(STEPS[3])
        write_json_atomic(tmp / manifest.MANIFEST, {
            "version": version, "parent": parent, "created_at": created_at,
            "rows": {"papers": stats.papers, "observations": stats.observations, "changes": change_rows},
            "schema": {"papers": fingerprint(PAPERS), "observations": fingerprint(OBSERVATIONS),
                       "changes": fingerprint(changes.CHANGES)},
            "code_version": manifest.code_version(), "recrawl_days": recrawl_days,
            "health": health, "forced_despite": forced or [], "missing_listings": missing_listings(metas),
            "runs": manifest.public([{k: m.get(k) for k in ("run_id", "base_url", "started_at", "finished_at",
                                                            "listings", "settings", "dedupe")} for m in metas]),
            "files": manifest.file_entries(tmp),
        })
        _step(STEPS[4])
        found = manifest.problems(tmp)
        if found:
            raise PackagerError(f"the new version does not verify: {found}")
        _step(STEPS[5])
        mark_publishing(dataset, version)
        os.rename(tmp, dataset / version)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        clear_publishing(dataset)
        if no_space(exc):
            raise PackagerError(f"no space left writing {getattr(exc, 'filename', None) or tmp}") from None
        raise
    finally:
        progress.close()
    # A kill here leaves the version unpointed: the next packager adopts it (parent.resolve_parent).
    try:
        write_latest(dataset, version)
        clear_publishing(dataset)
    except OSError as exc:
        shutil.rmtree(dataset / version, ignore_errors=True)  # never pointed at: not published
        clear_publishing(dataset)
        if no_space(exc):
            raise PackagerError(f"no space left writing {dataset / LATEST}") from None
        raise
    logger.info("published %s", dataset / version)
    return PackageResult(version, str(dataset / version), parent, True, stats.papers, stats.observations,
                         stats.new_observations, diff.added, diff.removed, diff.changed)


def no_space(exc: BaseException) -> bool:
    """Whether an error is a full disk (Python's ENOSPC, or Arrow's IO error that only says so in words)."""
    return isinstance(exc, OSError) and (exc.errno in (errno.ENOSPC, errno.EDQUOT)
                                         or "No space left on device" in str(exc))


__all__ = ["LATEST", "BadTarget", "PackageResult", "PackagerError", "SpoolError", "latest", "package"]
