"""The card's adoption section (issue 24): the papers most cited by models, datasets and Spaces, a chart
of how the totals grew (matplotlib), the link tables' fields with their descriptions, and how many papers'
links are unknown. Appended to the card when the version has link tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from paperset.packager.links import LinkFold
from paperset.packager.links_schema import LINK_TABLES

TOP = 10
CHART = "links_totals.png"
KINDS = (("num_models", "models"), ("num_datasets", "datasets"), ("num_spaces", "Spaces"))


def tables(linked: LinkFold) -> dict[str, pa.Schema]:
    """The link tables this version has, with their schemas."""
    return {name: LINK_TABLES[name] for name in linked.rows}


def growth(rows: list[dict[str, Any]]) -> list[tuple[Any, tuple[int, int, int]]]:
    """Each night's sums of every paper's latest totals (models, datasets, Spaces)."""
    latest: dict[str, tuple[int, int, int]] = {}
    out = []
    for night in sorted({r["observed_at"] for r in rows}):
        for row in rows:
            if row["observed_at"] == night:
                latest[row["paper_id"]] = (row["num_models"], row["num_datasets"], row["num_spaces"])
        out.append((night, tuple(sum(t[i] for t in latest.values()) for i in range(3))))
    return out  # type: ignore[return-value]


def chart(points: list[tuple[Any, tuple[int, int, int]]], path: Path) -> None:
    """Lines of the three totals over the nights."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 3), dpi=80)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    for i, (_, label) in enumerate(KINDS):
        ax.plot([p[0] for p in points], [p[1][i] for p in points], marker="o", label=label)
    ax.set_ylabel("sum of the papers' totals")
    ax.set_title("Links to the dataset's papers over time")
    ax.legend()
    ax.tick_params(axis="x", labelsize=7)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None, "Creation Time": None})


def section(version: Path, linked: LinkFold) -> str:
    """The Markdown section (empty without link tables); writes the chart into the version."""
    if not linked.rows:
        return ""
    totals = pq.read_table(version / "link_totals").to_pylist()
    latest: dict[str, dict[str, Any]] = {}
    for row in sorted(totals, key=lambda r: r["observed_at"]):
        latest[row["paper_id"]] = row
    lines = ["", "## Adoption: what the Hub built on these papers", "",
             f"Links of {linked.known} papers looked up completely this night; {linked.unknown} unknown "
             "(their lookup failed: shown as unknown in `link_status`, never as 0 links).", ""]
    for column, label in KINDS:
        top = sorted(latest.values(), key=lambda r: (-r[column], r["paper_id"]))[:TOP]
        top = [r for r in top if r[column] > 0]
        if top:
            lines += [f"Papers most cited by {label}: " + ", ".join(f"{r['paper_id']} ({r[column]})" for r in top), ""]
    points = growth(totals)
    if points:
        chart(points, version / CHART)
        lines += [f"![Links over time]({CHART})", ""]
    lines += ["| table | field | type | description |", "|---|---|---|---|"]
    for name in linked.rows:
        for f in LINK_TABLES[name]:
            lines.append(f"| {name} | {f.name} | {f.type} | {(f.metadata or {}).get(b'description', b'').decode()} |")
    return "\n".join(lines) + "\n"
