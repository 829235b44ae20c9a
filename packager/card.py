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


def chart(days: list[tuple[str, int]], path: Path, width: int = 640, height: int = 240) -> None:
    """Papers per listing day as a bar chart PNG: one bar a day, oldest left, over grid lines at each
    quarter of the highest count. Drawn with numpy and zlib (deterministic bytes, no plotting library
    to import: that took a second of every run)."""
    import struct
    import zlib

    import numpy as np

    pixels = np.full((height, width, 3), 255, dtype=np.uint8)
    left, right, top, bottom = 8, width - 8, 8, height - 8
    for quarter in range(1, 5):
        pixels[bottom - (bottom - top) * quarter // 4, left:right] = (225, 225, 225)
    highest = max((c for _, c in days), default=0)
    step = (right - left) / max(len(days), 1)
    for n, (_, count) in enumerate(days):
        x0, x1 = left + int(n * step), left + max(int((n + 1) * step) - 1, int(n * step) + 1)
        y0 = bottom - round((bottom - top) * count / highest) if highest else bottom
        pixels[y0:bottom, x0:x1] = (0x4B, 0x6F, 0xA8)
    pixels[bottom, left:right] = (64, 64, 64)
    raw = b"".join(b"\x00" + row.tobytes() for row in pixels)

    def block(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + block(b"IHDR", header) + block(b"IDAT", zlib.compress(raw, 9))
                     + block(b"IEND", b""))


def render(context: dict[str, Any]) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE.parent), autoescape=False,
                             keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    return env.get_template(TEMPLATE.name).render(**context)
