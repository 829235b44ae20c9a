"""The checks `paperset run` makes before anything is fetched or created: the settings keep the steps the
packager needs, and the latest version's near-dup index suits the run's settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def check_publishable(settings: Any) -> None:
    """A run's settings keep the steps the packager needs (ValueError naming those turned off, before
    anything is fetched: a crawl that could never be published is not started): the packager reads the fields
    the normalize step writes (times, ids) and groups entries by the keys the dedupe step sets."""
    from paperset.crawler.pipelines.config import PipelineConfig

    steps = PipelineConfig.from_settings(settings)
    needs = {"PAPERSET_NORMALIZE_ENABLED": steps.normalize, "PAPERSET_DEDUPE_ENABLED": steps.dedupe}
    off = [name for name, on in needs.items() if not on]
    if off:
        raise ValueError(f"{' and '.join(f'{name}=False' for name in off)}: a run publishes a snapshot, and the "
                         "packager needs every entry normalized and keyed by those steps; to see entries "
                         "without them, use paperset crawl --out")


def check_parent_index(dataset: Path, settings: Any) -> None:
    """Before anything is made: the latest version's near-dup index (the one a new run starts from) was
    built with the run's PAPERSET_DEDUPE_* settings (SettingError naming them) and can be read."""
    from paperset.app.config import AppConfig
    from paperset.crawler.dedup.config import DedupeConfig
    from paperset.crawler.dedup.index import check_store
    from paperset.packager.build import latest

    parent = latest(dataset) if dataset.is_dir() else None
    if parent is not None and AppConfig.from_settings(settings).dedupe:
        check_store(DedupeConfig.from_settings(settings), str(dataset / parent / "dedupe-index"),
                    index_proofs(dataset / parent))


def index_proofs(version: Path) -> dict[str, Any]:
    """The packager's stat proofs of a version's near-dup index files (name inside the index -> proof): a
    segment file whose stat still equals its proof was hashed into the verified manifest, so its bytes
    need no second check (paperset/crawler/dedup/disk.py)."""
    from paperset.packager.proofs import load_proofs

    prefix = "dedupe-index/"
    return {name[len(prefix):]: proof for name, proof in load_proofs(version).items() if name.startswith(prefix)}
