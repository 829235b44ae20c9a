"""paperset/packager/chart.py: the chart drawn by its own process is the chart drawn here, byte for byte;
a drawing process that fails or never gets an order leaves no process behind and the chart still drawn."""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import date, timedelta

import pytest

from paperset.crawler.site.kinds import daily_kinds
from paperset.packager import chart as chart_module
from paperset.packager.chart import ChartDrawer, chart

DAYS = [((date(2025, 3, 1) + timedelta(days=i)).isoformat(), (i * 7) % 11) for i in range(40)]


def test_the_drawing_process_draws_the_same_bytes_as_drawing_here(tmp_path, caplog) -> None:
    chart(DAYS, tmp_path / "here.png")
    drawer = ChartDrawer()
    assert drawer.process is not None
    drawer.send(DAYS, tmp_path / "there.png")
    with caplog.at_level(logging.WARNING):
        drawer.wait()
    assert drawer.process.returncode == 0  # it drew: nothing fell back
    assert caplog.records == []
    assert (tmp_path / "there.png").read_bytes() == (tmp_path / "here.png").read_bytes()
    drawer.close()


@pytest.mark.parametrize("how", ["fails", "cannot start"])
def test_a_failed_drawing_process_is_logged_and_the_chart_drawn_here(tmp_path, caplog, monkeypatch, how) -> None:
    chart(DAYS, tmp_path / "here.png")
    if how == "fails":
        monkeypatch.setattr(chart_module.sys, "executable", sys.executable)
        monkeypatch.setattr(chart_module.subprocess, "Popen", _failing_popen)
    else:
        monkeypatch.setattr(chart_module.sys, "executable", str(tmp_path / "no-such-python"))
    with caplog.at_level(logging.WARNING):
        drawer = ChartDrawer()
        drawer.send(DAYS, tmp_path / "there.png")
        drawer.wait()
        drawer.close()
    assert (tmp_path / "there.png").read_bytes() == (tmp_path / "here.png").read_bytes()
    assert [r.getMessage().split(":")[0] for r in caplog.records] == ["the chart is drawn here"]
    assert drawer.process is None


POPEN = subprocess.Popen


def _failing_popen(args, **kwargs):  # a process that exits 1 with a message, whatever it is asked
    return POPEN([sys.executable, "-c", "import sys; sys.stdin.read(); sys.exit('broken drawer')"],
                            **kwargs)


def test_a_drawer_closed_without_an_order_leaves_no_process() -> None:
    drawer = ChartDrawer()
    process = drawer.process
    assert process is not None
    drawer.close()
    assert process.poll() is not None
    assert drawer.process is None


def test_package_draws_with_the_process_its_caller_started(tmp_path, corpus_path, monkeypatch) -> None:
    """A run starts the chart's process before it crawls (matplotlib is imported by the time it packages):
    package uses that one, starts none, and closes it."""
    from paperset.packager.build import package
    from tests.conftest import corpus_spool

    spool = corpus_spool(tmp_path / "spool", corpus_path, 50)
    drawer = ChartDrawer()
    process = drawer.process
    monkeypatch.setattr(chart_module.ChartDrawer, "__init__", _no_second_drawer)
    result = package([spool], tmp_path / "out", "ds", drawer=drawer, daily_kinds=daily_kinds())
    assert (result.papers, (tmp_path / "out" / "ds" / result.version / "papers_per_day.png").is_file()) == (50, True)
    assert process is not None and process.returncode == 0 and drawer.process is None


def _no_second_drawer(self: ChartDrawer) -> None:
    raise AssertionError("package started a chart process of its own")
