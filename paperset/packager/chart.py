"""The card's papers-per-day chart (a PNG drawn with matplotlib), and the process that draws it beside
the fold.

Importing matplotlib and drawing take about half a second, a third of a small run's fixed cost. A
`ChartDrawer` starts a Python process of its own when packaging begins: it imports matplotlib while the
fold runs, gets the days once the fold has counted them, and draws while the card and croissant are
written; the version waits for the file before its manifest is made. Anything that goes wrong with that
process (it cannot start, fails, or takes longer than DRAW_TIMEOUT_S) is logged and the chart is drawn
in the packaging process instead: the same bytes either way (`tests/packager/test_chart.py`)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

logger = logging.getLogger(__name__)

# Days drawn one bar each and listed one row each in the card's coverage table; past this many days the
# chart draws a bar a week and the table counts papers per month.
DAILY_TABLE_MAX = 60
# The chart's file in a version (card_template.md shows it).
CHART = "papers_per_day.png"
# How long the drawing process may take, from the days sent to the file written.
DRAW_TIMEOUT_S = 60.0


def chart(days: list[tuple[str, int]], path: Path) -> None:
    """Bars on a date axis: one a day up to DAILY_TABLE_MAX days, else one a week (weeks from Monday)."""
    # A Figure drawn on the Agg canvas directly: pyplot (its backend machinery) is not imported.
    import matplotlib.dates as mdates
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    weekly = len(days) > DAILY_TABLE_MAX
    bins: Counter[date] = Counter()
    for day, count in days:
        d = date.fromisoformat(day)
        bins[d - timedelta(days=d.weekday()) if weekly else d] += count
    fig = Figure(figsize=(8, 3), dpi=80)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    points = sorted(bins.items())
    ax.bar([d for d, _ in points], [c for _, c in points], width=6 if weekly else 0.8, align="edge" if weekly
           else "center", color="#4b6fa8")
    ax.set_ylabel("papers per week" if weekly else "papers per day")
    ax.set_title("Papers per listing week" if weekly else "Papers per listing day")
    locator = mdates.AutoDateLocator(maxticks=12)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.tick_params(axis="x", labelsize=7)
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None, "Creation Time": None})


class ChartDrawer:
    """One chart drawn by a process started now (see the module doc): `send` the days, `wait` for the
    file, `close` in any case."""

    def __init__(self) -> None:
        self.job: tuple[list[tuple[str, int]], Path] | None = None
        try:
            # -P and this process's path: paperset imported from where this process has it, not the cwd.
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
            self.process: subprocess.Popen[bytes] | None = subprocess.Popen(
                [sys.executable, "-P", "-m", "paperset.packager.chart"], stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        except OSError as exc:
            logger.warning("the chart is drawn here: its process did not start (%s)", exc)
            self.process = None

    def send(self, days: list[tuple[str, int]], path: Path) -> None:
        """Give the process the chart to draw (it draws while the caller goes on)."""
        self.job = (days, path)
        if self.process is None:
            return
        try:
            assert self.process.stdin is not None
            self.process.stdin.write(json.dumps({"days": days, "path": str(path)}).encode())
            self.process.stdin.close()
            self.process.stdin = None  # sent: `communicate` only waits and reads its errors
        except OSError as exc:
            logger.warning("the chart is drawn here: its process took no order (%s)", exc)
            self.close()

    def wait(self) -> None:
        """Return once the chart's file is written: by the process, or else here."""
        assert self.job is not None, "send comes first"
        days, path = self.job
        if self.process is not None:
            try:
                _, err = self.process.communicate(timeout=DRAW_TIMEOUT_S)
                if self.process.returncode == 0 and path.is_file():
                    return
                why = f"exit {self.process.returncode}: {err.decode(errors='replace').strip()[-500:]}"
            except subprocess.TimeoutExpired:
                why = f"no chart within {DRAW_TIMEOUT_S:g} s"
            logger.warning("the chart is drawn here: its process failed (%s)", why)
            self.close()
        chart(days, path)

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
        if self.process is not None:
            self.process.wait()
        self.process = None


def _main() -> None:
    """The drawing process: import matplotlib first, then read the order from stdin and draw it."""
    import matplotlib.dates
    import matplotlib.figure  # noqa: F401
    from matplotlib.backends import backend_agg  # noqa: F401

    order = json.loads(sys.stdin.buffer.read() or b"null")
    if order is None:  # the packager closed without an order (nothing to publish)
        return
    chart([(day, count) for day, count in order["days"]], Path(order["path"]))


if __name__ == "__main__":
    _main()
