"""Shared by the benchmarks: machine facts and writing `bench/results/<name>.json`."""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    packages = {}
    for name in ("scrapy", "scrapy-playwright", "playwright", "datasketch", "pyarrow", "numpy"):
        try:
            packages[name] = version(name)
        except Exception:  # noqa: S112 - a package that is not installed is left out of the record
            continue
    return {"platform": platform.platform(), "python": sys.version.split()[0], "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(), "packages": packages}


def write_results(name: str, figures: dict[str, Any]) -> Path:
    """Write the figures with the machine and the date; return the file."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    record = {"benchmark": name, "date": datetime.now(UTC).isoformat(timespec="seconds"),
              "machine": machine(), **figures}
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return path


def print_table(headers: list[str], rows: list[list[Any]]) -> None:
    """A plain aligned table on stdout."""
    cells = [headers] + [[f"{c:,.1f}" if isinstance(c, float) else str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        print("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))))
        if n == 0:
            print("  ".join("-" * w for w in widths))
