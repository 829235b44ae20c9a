"""Package spools into the next version: build it in a hidden folder beside the target, verify it,
rename it into place, then move the `LATEST` pointer. A published version is never rewritten."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import sys
import time
from collections.abc import Collection
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from paperset.packager import card, card_facts, changes, links_card, manifest
from paperset.packager.chart import CHART, ChartDrawer
from paperset.packager.croissant import croissant
from paperset.packager.errors import BadTarget, PackagerError
from paperset.packager.fold import fold
from paperset.packager.intake import Intake
from paperset.packager.links import LinkFold, fold_links
from paperset.packager.parent import (
    LATEST,
    SEQUENCE_DIGITS,
    CheckedParent,
    ParentError,
    clear_publishing,
    mark_publishing,
    read_pointer,
    resolve_parent,
    version_order,
    versions,
    write_latest,
)
from paperset.packager.proofs import proofs_path
from paperset.packager.share import copy_linked, share
from paperset.packager.stats import FoldStats
from paperset.packager.tables import TABLES
from paperset.spool.arrow_memory import use_system_pool
from paperset.spool.errors import no_space
from paperset.spool.reader import read_meta
from paperset.spool.writer import write_json_atomic

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


STEPS = ("reading the parent version and the spools", "folding them into Parquet",
         "writing the card, changes and metadata", "writing the manifest", "verifying", "publishing")


class PackagingProgress:
    """A progress bar over the packaging steps (STEPS) on a terminal (tqdm), plain log lines otherwise."""

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

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


@dataclass(frozen=True)
class Release:
    """What one packaging writes into a version besides the folded tables: where it came from and why."""

    name: str
    parent: str | None
    created_at: str
    metas: list[dict]
    recrawl_days: int
    health: dict[str, Any] | None
    forced: list[str]
    lineage: list[dict[str, Any]]
    daily_kinds: tuple[str, ...]  # the listing kinds of Daily Papers itself (the population rule's)


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


def next_version(dataset: Path, today: str) -> str:
    """`YYYY.MM.DD`, then `YYYY.MM.DD.02`, `.03`... `.99` for more versions the same day (zero-padded: the
    names sort as text in the order they were made); always after LATEST (a pulled parent may be the only
    local version of its day) and never the number of an existing folder (`.2` of an earlier release)."""
    base = today.replace("-", ".")
    parent = latest(dataset)
    after = version_order(parent) if parent else ()
    taken = {version_order(v) for v in versions(dataset)}
    for n in range(1, 10 ** SEQUENCE_DIGITS):
        name = base if n == 1 else f"{base}.{n:0{SEQUENCE_DIGITS}d}"
        if not (dataset / name).exists() and version_order(name) > after and version_order(name) not in taken:
            return name
    raise PackagerError(f"{dataset}: no version name left for {base} (at most {10 ** SEQUENCE_DIGITS - 1} a "
                        "day); package again tomorrow")


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


def _write_version(tmp: Path, version: str, release: Release, stats: FoldStats, diff: changes.ChangeLog,
                   dedupe_index: Path | None, progress: PackagingProgress, linked: LinkFold,
                   parent_dir: Path | None, drawer: ChartDrawer) -> None:
    """Everything of the version but its folded tables, into `tmp`, then checked against its manifest."""
    progress.step(STEPS[2])
    drawer.send(sorted(stats.per_day.items()), tmp / CHART)
    diff.close()
    change_rows = diff.rows
    context = card.context(release.name, version, release.parent, stats, release.metas, diff,
                           release.recrawl_days, release.created_at, release.forced)
    context["example"] = card.example_row(tmp / "papers")
    context.update(card.facts(tmp, stats, release.metas, release.recrawl_days, release.lineage, release.daily_kinds))
    front = card.front_matter(release.name, context["size_category"], tmp, TABLES)
    (tmp / "README.md").write_text(card.render(context, front) + links_card.section(tmp, linked), encoding="utf-8")
    diff.write_markdown(tmp / "CHANGES.md", release.parent, version)
    diff.remove()
    description = f"Hugging Face Papers listings packaged by paperset: {stats.papers} papers."
    write_json_atomic(tmp / "croissant.json", croissant(
        release.name, version, description, TABLES, release.created_at, url=card.dataset_url(release.name),
        cite_as=context["bibtex"]))
    if dedupe_index is not None and dedupe_index.is_dir():
        # Hidden files are a killed save's temporary files, not the index.
        copy_linked(dedupe_index, tmp / "dedupe-index")
    drawer.wait()
    progress.step(STEPS[3])
    rows = {"papers": stats.papers, "observations": stats.observations, "changes": change_rows, **linked.rows}
    files, proofs = share(tmp, parent_dir)
    write_json_atomic(tmp / manifest.MANIFEST, manifest.record(
        tmp, version=version, parent=release.parent, created_at=release.created_at, rows=rows,
        recrawl_days=release.recrawl_days, health=release.health, forced=release.forced, metas=release.metas,
        lineage=release.lineage, files=files, partitions=stats.partitions,
        new_observations=stats.new_observations, daily_kinds=release.daily_kinds))
    progress.step(STEPS[4])
    found = manifest.problems(tmp, proofs=proofs)
    if found:
        raise PackagerError(f"the new version does not verify: {found}")
    # Local facts (inodes), kept beside the versions: never published, never in the manifest.
    proofs_path(tmp.parent / version).parent.mkdir(exist_ok=True)
    write_json_atomic(proofs_path(tmp.parent / version), proofs)


def _point_latest(dataset: Path, version: str) -> None:
    """Move `LATEST` to the renamed version; on failure the version is removed (never pointed at: not
    published). A kill before this leaves it unpointed: the next packager adopts it (resolve_parent)."""
    try:
        write_latest(dataset, version)
        clear_publishing(dataset)
    except OSError as exc:
        shutil.rmtree(dataset / version, ignore_errors=True)
        proofs = proofs_path(dataset / version)
        with contextlib.suppress(OSError):  # its stat proofs go with it (and their folder, left empty)
            proofs.unlink(missing_ok=True)
            proofs.parent.rmdir()
        clear_publishing(dataset)
        if no_space(exc):
            raise PackagerError(f"no space left writing {dataset / LATEST}") from None
        raise


def package(spools: list[Path], root: Path, name: str, *, now: datetime | None = None, allow_partial: bool = False,
            recrawl_days: int = 7, dedupe_index: Path | None = None, health: dict[str, Any] | None = None,
            forced: list[str] | None = None, progress: bool | None = None, checked: CheckedParent | None = None,
            intake: Intake | None = None, drawer: ChartDrawer | None = None,
            daily_kinds: Collection[str]) -> PackageResult:
    """Publish the next version of ROOT/NAME from the spools and the parent version (see module doc).
    `daily_kinds`: the kinds whose papers are Daily Papers' (Kind.daily, handed down: no crawler import).
    `checked`: the parent a caller holding the dataset's lock has already resolved and checked (a run does
    so before it crawls): it is not checksummed again. `intake`: spool parts read already (a run reads its
    crawl's finished parts while crawling; the caller removes it). `drawer`: the chart's process, started
    by the caller (a run starts it before it crawls: matplotlib is imported by then); closed here."""
    use_system_pool()  # a caller other than the CLI (a library user, a bench) packages as the CLI does
    now = now or datetime.now(UTC)
    dataset = check_target(root, name)
    parent = checked.version if checked is not None else resolve_parent(dataset)
    steps = PackagingProgress(progress)
    steps.step(STEPS[0])
    parent_dir = dataset / parent if parent else None
    release = Release(name, parent, now.isoformat(timespec="seconds"), [read_meta(s) for s in spools],
                      recrawl_days, health, forced or [], card_facts.lineage(parent_dir), tuple(daily_kinds))
    tmp = dataset / f".tmp-{os.getpid()}-{time.monotonic_ns()}"
    drawer = drawer or ChartDrawer()  # imports matplotlib in a process of its own while the fold runs
    try:
        tmp.mkdir()
        steps.step(STEPS[1])
        # Hidden inside the temporary version, removed once CHANGES.md is written.
        diff = changes.ChangeLog(tmp / ".changes", tmp / "changes")
        # Named before folding: each new observation records the version that first held it.
        version = next_version(dataset, now.date().isoformat())
        stats = fold(spools, parent_dir, tmp, diff, today=now.date(), recrawl_days=recrawl_days,
                     version=version, daily_kinds=daily_kinds, allow_partial=allow_partial, intake=intake)
        diff.close()
        linked = fold_links(spools, parent_dir, tmp, now)
        if parent and diff.empty and stats.new_observations == 0 and not linked.any_change:
            shutil.rmtree(tmp, ignore_errors=True)
            steps.close()
            logger.info("nothing changed since %s: no new version", parent)
            return PackageResult(None, str(parent_dir), parent, False, stats.papers, stats.observations,
                                 0, 0, 0, 0)
        _write_version(tmp, version, release, stats, diff, dedupe_index, steps, linked, parent_dir, drawer)
        steps.step(STEPS[5])
        mark_publishing(dataset, version)
        Path(tmp).rename(dataset / version)
    except BaseException as exc:
        drawer.close()  # before the folder goes: it may be drawing into it
        shutil.rmtree(tmp, ignore_errors=True)
        clear_publishing(dataset)
        if no_space(exc):
            raise PackagerError(f"no space left writing {getattr(exc, 'filename', None) or tmp}") from None
        raise
    finally:
        steps.close()
        drawer.close()
    _point_latest(dataset, version)
    logger.info("published %s", dataset / version)
    return PackageResult(version, str(dataset / version), parent, True, stats.papers, stats.observations,
                         stats.new_observations, diff.added, diff.removed, diff.changed)


