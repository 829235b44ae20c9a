"""The dataset card (README.md) rendered from card_template.md, and its per-day chart."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import jinja2
import pyarrow as pa

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


def per_day(papers: pa.Table) -> list[tuple[str, int]]:
    counts: Counter[str] = Counter()
    for listings in papers.column("listings").to_pylist():
        for day in {item["key"] for item in listings or [] if item["kind"] == "day"}:
            counts[day] += 1
    return sorted(counts.items())


def gaps(days: list[tuple[str, int]]) -> list[str]:
    """Weekdays inside the covered range with no listed papers (the site lists none on weekends)."""
    if not days:
        return []
    first, last = date.fromisoformat(days[0][0]), date.fromisoformat(days[-1][0])
    have = {d for d, _ in days}
    span = ((first + timedelta(days=i)) for i in range((last - first).days + 1))
    return [d.isoformat() for d in span if d.weekday() < 5 and d.isoformat() not in have]


def chart(days: list[tuple[str, int]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3), dpi=80)
    ax.bar([d for d, _ in days], [c for _, c in days], color="#4b6fa8")
    ax.set_ylabel("papers")
    ax.set_title("Papers per listing day")
    ax.tick_params(axis="x", labelrotation=90, labelsize=6)
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None, "Creation Time": None})
    plt.close(fig)


def render(context: dict[str, Any]) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE.parent), autoescape=False,
                             keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    return env.get_template(TEMPLATE.name).render(**context)
