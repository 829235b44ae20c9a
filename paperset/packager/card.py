"""The dataset card (README.md): YAML front matter written by huggingface_hub.DatasetCardData (the Hub's
metadata fields), the prose rendered from card_template.md with the context `context` gathers (its papers-per-day chart:
chart.py)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import pyarrow as pa

from paperset.packager import manifest
from paperset.packager.chart import DAILY_TABLE_MAX
from paperset.packager.derive import rules
from paperset.packager.footers import footer
from paperset.packager.tables import OBSERVATIONS, PAPERS
from paperset.spool.identity import project_home

if TYPE_CHECKING:
    from paperset.packager.changes import ChangeLog
    from paperset.packager.stats import FoldStats

TEMPLATE = Path(__file__).with_name("card_template.md")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def escape_md(text: Any) -> str:
    """Page text made inert in Markdown tables and YAML-free body text (one line, specials escaped)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(text or "").split()))


def size_category(rows: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                         (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M")):
        if rows < limit:
            return label
    return "n>10M"


def asked_days(listings: list[list[str]]) -> list[str]:
    """The days a run's listings cover: day listings, every day of week (ISO) and month listings."""
    days: set[date] = set()
    for kind, key in listings:
        try:
            if kind == "day":
                days.add(date.fromisoformat(key))
            elif kind == "week":
                year, week = key.split("-W")
                monday = date.fromisocalendar(int(year), int(week), 1)
                days.update(monday + timedelta(days=i) for i in range(7))
            elif kind == "month":
                first = date.fromisoformat(f"{key}-01")
                days.update(d for i in range(31) if (d := first + timedelta(days=i)).month == first.month)
        except ValueError:
            continue
    return sorted(d.isoformat() for d in days)


def gaps(days: list[tuple[str, int]], asked: list[str] | None = None) -> list[str]:
    """Weekdays with no listed papers (the site lists none on weekends): over the days the runs asked
    for when they asked for dates, else between the first and the last day that had papers."""
    have = {d for d, count in days if count}
    if asked:
        span = [date.fromisoformat(d) for d in asked]
    elif days:
        first, last = date.fromisoformat(days[0][0]), date.fromisoformat(days[-1][0])
        span = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    else:
        return []
    return [d.isoformat() for d in span if d.weekday() < 5 and d.isoformat() not in have]


FENCE = "`" * 3


def table_rows(days: list[tuple[str, int]]) -> tuple[str, list[tuple[str, int]]]:
    """The card's coverage table: ("day", per day) up to DAILY_TABLE_MAX days, else ("month", per month)."""
    if len(days) <= DAILY_TABLE_MAX:
        return "day", days
    months: Counter[str] = Counter()
    for day, count in days:
        months[day[:7]] += count
    return "month", sorted(months.items())


def features(schema: pa.Schema) -> list[dict[str, Any]]:
    """The `datasets` features of a schema, in the card's YAML form (`dtype`, `list`, `struct`)."""

    def one(kind: pa.DataType) -> dict[str, Any]:
        if pa.types.is_struct(kind):
            return {"struct": [{"name": f.name, **one(f.type)} for f in kind]}
        if pa.types.is_list(kind):
            inner = kind.value_type
            return {"list": [{"name": f.name, **one(f.type)} for f in inner]} if pa.types.is_struct(inner) \
                else {"list": one(inner)["dtype"]}
        return {"dtype": {"bool": "bool", "double": "float64", "date32[day]": "date32"}.get(str(kind), str(kind))}

    return [{"name": f.name, **one(f.type)} for f in schema]


def table_info(folder: Path, schema: pa.Schema, config: str) -> dict[str, Any]:
    """dataset_info of one config from its written Parquet parts: features, rows, sizes."""
    parts = sorted(folder.glob("*.parquet"))
    footers = [footer(p) for p in parts]
    rows = sum(f.rows for f in footers)
    size = sum(f.data_bytes for f in footers)
    return {"config_name": config, "features": features(schema),
            "splits": [{"name": "train", "num_bytes": size, "num_examples": rows}],
            "download_size": sum(p.stat().st_size for p in parts), "dataset_size": size}


CONFIGS = ("papers", "observations", "changes")


def front_matter(name: str, size: str, version_dir: Path, schemas: dict[str, pa.Schema]) -> str:
    """The card's YAML (between the `---` lines), written by DatasetCardData: never text substitution."""
    from huggingface_hub import DatasetCardData

    data = DatasetCardData(
        pretty_name=str(name), license="other", license_name="source-terms",
        license_link="https://huggingface.co/terms-of-service", language=["en"],
        task_categories=["text-classification", "text-retrieval", "summarization"],
        size_categories=[size], source_datasets=["original"], annotations_creators=["machine-generated"],
        language_creators=["found"], multilinguality=["monolingual"],
        tags=["papers", "arxiv", "hugging-face-papers"],
        configs=[{"config_name": c, "data_files": [{"split": "train", "path": f"{c}/*.parquet"}],
                  **({"default": True} if c == "papers" else {})} for c in CONFIGS],
        dataset_info=[table_info(version_dir / c, schemas[c], c) for c in CONFIGS],
    )
    return data.to_yaml()


def example_row(folder: Path) -> str:
    """The first paper as JSON (long text shortened), for the card's example."""
    import json

    import pyarrow.parquet as pq

    parts = sorted(folder.glob("*.parquet"))
    # The first batch of one row only, through a small buffer: not the first row group, a partition's worth.
    batches = pq.ParquetFile(parts[0], buffer_size=1 << 16, pre_buffer=False).iter_batches(batch_size=1) \
        if parts else iter(())
    rows = next(batches, pa.record_batch([])).to_pylist()
    if not rows:
        return "{}"

    def short(value: Any) -> Any:
        if isinstance(value, str) and len(value) > 200:
            return value[:200] + "..."
        if isinstance(value, list) and len(value) > 3:
            return [*value[:3], f"... ({len(value) - 3} more)"]
        return value

    row = {k: short(v) for k, v in rows[0].items()}
    return json.dumps(row, indent=2, default=str, ensure_ascii=False).replace(FENCE, "` ` `")


def dataset_url(name: str) -> str:
    """Where the card and Croissant say the dataset lives (the owner is filled in on the Hub)."""
    return f"https://huggingface.co/datasets/OWNER/{name}"


def bibtex(name: str, version: str, year: str, url: str) -> str:
    """A BibTeX entry for this version of the dataset (no URL while the owner is unknown: OWNER)."""
    key = re.sub(r"[^A-Za-z0-9]+", "_", f"{name}_{version}").strip("_")
    where = "" if "/OWNER/" in url else f"  howpublished = {{\\url{{{url}}}}},\n"
    return (f"@misc{{{key},\n  title = {{{{{name}}}: Hugging Face Papers listings, version {version}}},\n"
            f"  author = {{{{paperset contributors}}}},\n  year = {{{year}}},\n  version = {{{version}}},\n"
            f"{where}  note = {{Packaged with paperset from Hugging Face Papers; the papers are on arXiv}}\n}}")


# The source the data comes from, cited beside the dataset (each paper is cited by its own arXiv id).
SOURCE_BIBTEX = ("@misc{hf_daily_papers,\n  title = {{Daily Papers}},\n  author = {{Hugging Face}},\n"
                 "  howpublished = {\\url{https://huggingface.co/papers}},\n"
                 "  note = {Listings, upvotes, comments and generated summaries of arXiv papers}\n}")


def facts(version_dir: Path, stats: FoldStats, metas: list[dict], recrawl_days: int,
          history: list[dict[str, Any]], daily_kinds: Collection[str]) -> dict[str, Any]:
    """The card's tables read from the written version (fill rates, distinct counts) and the runs'
    lineage and settings: added to `context` once papers/ and observations/ are written. The rules'
    sentences name `daily_kinds` (the population's)."""
    from paperset.packager import card_facts, sketch
    from paperset.packager.stats import column_stats

    return {
        "papers_schema": card_facts.column_rows(column_stats(version_dir, "papers", PAPERS, stats.papers),
                                                _described(PAPERS)),
        "observations_schema": card_facts.column_rows(
            column_stats(version_dir, "observations", OBSERVATIONS, stats.observations), _described(OBSERVATIONS)),
        "runs": [card_facts.run_summary(m) for m in metas],
        "lineage": history[:card_facts.LINEAGE_SHOWN], "lineage_more": max(0, len(history) - card_facts.LINEAGE_SHOWN),
        "settings_rows": [(n, escape_md(v)) for n, v in card_facts.settings_rows(metas, recrawl_days)],
        "undated": card_facts.undated_sentence(stats), "counts": card_facts.counts(stats),
        "source_bibtex": SOURCE_BIBTEX, "rules": rules(daily_kinds), "sketch_exact": sketch.EXACT,
        "sketch_registers": f"{sketch.REGISTERS:,}", "sketch_error": f"{100 * sketch.ERROR:.1f}%",
    }


def render(context: dict[str, Any], front: str) -> str:
    """The card: `---`, the YAML `front`, `---`, the template's prose."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE.parent), autoescape=False,  # noqa: S701 - Markdown, not HTML
                             keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    return f"---\n{front.rstrip()}\n---\n\n" + env.get_template(TEMPLATE.name).render(**context)


def _run_totals(metas: list[dict]) -> Counter[str]:
    """The runs' `paperset/` counters added up."""
    totals: Counter[str] = Counter()
    for meta in metas:
        for key, value in (meta.get("stats") or {}).items():
            if isinstance(value, int) and key.startswith("paperset/"):
                totals[key] += value
    return totals


def _described(schema: pa.Schema) -> list[dict[str, str]]:
    return [{"name": f.name, "type": str(f.type),
             "description": escape_md((f.metadata or {}).get(b"description", b"").decode())} for f in schema]


def context(name: str, version: str, parent: str | None, stats: FoldStats, metas: list[dict],
            diff: ChangeLog, recrawl_days: int, created_at: str, forced: list[str]) -> dict[str, Any]:
    """What card_template.md is rendered with (but `example`: `example_row`, and `facts`, once papers/ is
    written)."""
    days = sorted(stats.per_day.items())
    totals = _run_totals(metas)

    def group(prefix: str) -> str:
        found = {k[len(prefix):]: v for k, v in sorted(totals.items()) if k.startswith(prefix)}
        return ", ".join(f"{k} {v}" for k, v in found.items()) or "none"

    return {
        "name": name, "version": version, "parent": parent, "created_at": created_at, "home": project_home(),
        "forced": [escape_md(reason) for reason in forced],
        "rows": {"papers": stats.papers, "observations": stats.observations},
        "size_category": size_category(stats.papers),
        "sources": sorted({str(m.get("base_url")) for m in metas}) or ["(no new crawl)"],
        "fetch_paths": group("paperset/fetch/"), "unmapped": group("paperset/unmapped_keys/"),
        "not_on_path": group("paperset/not_on_path/"), "settings": manifest.public(
            {k: v for m in metas for k, v in (m.get("settings") or {}).items()}),
        "dedupe": metas[-1].get("dedupe") if metas else "n/a", "dedupe_outcomes": group("paperset/dedupe/"),
        "clustered": stats.clustered, "per_day": days,
        "gaps": gaps(days, asked_days([item for m in metas for item in m.get("listings") or []])),
        "table": table_rows(days),
        "bibtex": bibtex(name, version, created_at[:4], dataset_url(name)),
        "changes_summary": f"{diff.added} added, {diff.removed} removed, {diff.changed} changed.",
        "provisional": stats.provisional, "recrawl_days": recrawl_days,
        "rejected": sum(v for k, v in totals.items() if k.startswith("paperset/dropped/")),
        "code_version": manifest.code_version(),
        "sample": [{"key": escape_md(r["paper_key"]), "title": escape_md(r["title"])} for r in stats.sample],
        "missing": [escape_md(f"{r['kind']} {r['key']} ({r['reason']})")
                    for r in manifest.missing_listings(metas)],
    }
