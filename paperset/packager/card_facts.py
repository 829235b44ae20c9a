"""The card's tables of facts: the lineage of runs whose data a version holds, the settings in force, the
columns' fill rates and distinct counts, the counts by population and listing kind, and the sentence that
reconciles the papers-per-day table with the header."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paperset.packager.manifest import MANIFEST, public

if TYPE_CHECKING:
    from paperset.packager.stats import FoldStats

RUN_FIELDS = ("run_id", "base_url", "started_at", "finished_at")
LINEAGE_SHOWN = 30  # versions of the lineage the card lists (the manifest keeps them all)


def run_summary(meta: dict[str, Any]) -> dict[str, Any]:
    return public({**{k: meta.get(k) for k in RUN_FIELDS}, "listings": len(meta.get("listings") or [])})


def lineage(parent_dir: Path | None) -> list[dict[str, Any]]:
    """The versions whose data a child of `parent_dir` holds, newest first: the parent with its runs, then
    the parent's own lineage (from its manifest; a manifest of an earlier release has none)."""
    if parent_dir is None:
        return []
    try:
        manifest = json.loads((parent_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return [{"version": parent_dir.name, "runs": []}]
    runs = [run_summary(r) for r in manifest.get("runs") or []]
    return [{"version": parent_dir.name, "created_at": manifest.get("created_at"), "runs": runs},
            *(manifest.get("lineage") or [])]


def settings_rows(metas: list[dict[str, Any]], recrawl_days: int) -> list[tuple[str, str]]:
    """The settings in force, one (name, value) a row: the runs' recorded settings, with the base URL the
    runs crawled and the recrawl window the packaging used in place of the recorded defaults."""
    merged: dict[str, Any] = {}
    for meta in metas:
        merged.update(public(meta.get("settings") or {}))
    if metas:
        merged["PAPERSET_BASE_URL"] = ", ".join(sorted({str(public(m.get("base_url"))) for m in metas}))
    merged["PAPERSET_RECRAWL_DAYS"] = recrawl_days
    return [(name, value if isinstance(value, str) else json.dumps(value))
            for name, value in sorted(merged.items())]


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def column_rows(stats: list[dict[str, Any]], described: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The schema table's rows: type and description with the column's fill rate and distinct count."""
    by_name = {s["name"]: s for s in stats}
    return [{**d, "filled": by_name[d["name"]]["filled"], "rows": by_name[d["name"]]["rows"],
             "fill": percent(by_name[d["name"]]["filled"], by_name[d["name"]]["rows"]),
             "distinct": ("" if by_name[d["name"]]["exact"] else "≈ ") + str(by_name[d["name"]]["distinct"])}
            for d in described]


UNDATED_WHY = {"daily": "daily papers seen only on a week, month or trending listing, without the site's "
                        "submittedOnDailyAt",
               "search_only": "search_only papers (never on a Daily Papers listing)",
               "indexed_only": "indexed_only papers (never on Daily Papers)"}


def undated_sentence(stats: FoldStats) -> str:
    """Why the per-day table sums to fewer papers than the header: the papers without a daily_date."""
    dated = sum(stats.per_day.values())
    rest = stats.papers - dated
    if not rest:
        return f"The table counts each of the {stats.papers} papers once, on its `daily_date`."
    parts = [f"{count} {UNDATED_WHY.get(population, population)}"
             for population, count in sorted(stats.undated.items())]
    return (f"The table counts each paper once, on its `daily_date`: {dated} papers. The other {rest} of the "
            f"{stats.papers} have no `daily_date`: {'; '.join(parts)}.")


def counts(stats: FoldStats) -> dict[str, Any]:
    """The card's count tables: papers by population, by listing kind; observations by listing kind."""
    return {"populations": sorted(stats.populations.items()), "keyless": stats.keyless,
            "listing_kinds": sorted(stats.listing_kinds.items()),
            "observation_kinds": sorted(stats.observation_kinds.items()),
            "relations": sorted(stats.relations.items()),
            "provisional": {"true": stats.provisional, "false": stats.not_provisional,
                            "null": stats.papers - stats.provisional - stats.not_provisional}}
