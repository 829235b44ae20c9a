"""Start-up: each command imports what it uses. `paperset verify` loads no crawler, Redis, chart or packager
build steps; a `paperset run` without Redis imports neither redis-py nor pandas, mlcroissant, aiohttp or
tldextract (Scrapy's switched-off remote control and cookies); pyarrow's pandas probe, skipped, leaves the
snapshot's bytes as they were."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from paperset.crawler.site.kinds import daily_kinds
from tests.conftest import ROOT, corpus_spool

# Top-level modules a command may pay for only when it needs them.
HEAVY = ("scrapy", "twisted", "redis", "scrapy_redis", "matplotlib", "pandas", "mlcroissant", "networkx",
         "rdflib", "jinja2", "huggingface_hub", "aiohttp", "tldextract", "requests", "playwright")
MAIN = """
import json, sys
from paperset.cli import main
code = main(json.loads(sys.argv[1]))
heavy = json.loads(sys.argv[2])
print(json.dumps({"code": code, "imported": sorted({m.split(".")[0] for m in sys.modules} & set(heavy))}))
"""
PACKAGE = """
import sys
from datetime import datetime
from pathlib import Path
if sys.argv[1] == "probe-skipped":
    from paperset.app.process import skip_pandas_probe
    skip_pandas_probe()
else:
    import pandas
from paperset.crawler.site.kinds import daily_kinds
from paperset.packager.build import package
package([Path(sys.argv[2])], Path(sys.argv[3]), "ds", now=datetime.fromisoformat(sys.argv[4]),
        daily_kinds=daily_kinds())
print(sorted(m for m in ("pandas",) if m in sys.modules))
"""


def run_main(argv: list[str], heavy: tuple[str, ...] = HEAVY) -> dict:
    """`paperset.cli.main(argv)` in a fresh interpreter: its exit code and the HEAVY modules it imported."""
    out = subprocess.run([sys.executable, "-c", MAIN, json.dumps(argv), json.dumps(heavy)], cwd=ROOT,
                         capture_output=True, text=True, timeout=300, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def files_of(folder: Path) -> dict[str, bytes]:
    """The dataset's files but its stat proofs (inodes: local facts, paperset/packager/share.py)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not str(p.relative_to(folder)).startswith(".proofs/")}


def test_verify_imports_no_crawler_redis_chart_or_packager_builder(tmp_path, corpus_path) -> None:
    from paperset.packager.build import package

    spool = corpus_spool(tmp_path / "spool", corpus_path, 20)
    result = package([spool], tmp_path / "out", "ds", now=datetime(2026, 12, 1, 3, 4, 5, tzinfo=UTC),
                     daily_kinds=daily_kinds())
    assert run_main(["verify", str(result.path)]) == {"code": 0, "imported": []}
    assert run_main(["verify", str(tmp_path)]) == {"code": 1, "imported": []}  # no manifest: a problem


def test_a_run_without_redis_imports_only_scrapy_of_the_heavy_modules(tmp_path, replica) -> None:
    day = replica.index["days"][0]
    found = run_main(["run", "--base-url", replica.base_url, "--day", day, "--out", str(tmp_path / "out"),
                      "--json", "-s", "AUTOTHROTTLE_ENABLED=False"],
                     ("redis", "scrapy_redis", "pandas", "mlcroissant", "networkx", "rdflib", "aiohttp",
                      "tldextract", "requests", "playwright", "matplotlib", "scrapy"))
    assert found == {"code": 0, "imported": ["scrapy"]}  # the chart is drawn by a process of its own
    version = next(p for p in (tmp_path / "out" / "hf-papers").iterdir() if p.name[0].isdigit())
    assert (version / "croissant.json").is_file()
    assert (version / "papers_per_day.png").is_file()


def test_skipping_pyarrows_pandas_probe_leaves_every_snapshot_byte_unchanged(tmp_path, corpus_path) -> None:
    spool = corpus_spool(tmp_path / "spool", corpus_path, 60)
    now = "2026-12-01T03:04:05+00:00"
    for how in ("probe-skipped", "pandas-imported"):
        out = subprocess.run([sys.executable, "-c", PACKAGE, how, str(spool), str(tmp_path / how), now],
                             cwd=ROOT, capture_output=True, text=True, timeout=300, check=True)
        assert out.stdout.strip() == ("[]" if how == "probe-skipped" else "['pandas']")
    skipped = files_of(tmp_path / "probe-skipped" / "ds")
    imported = files_of(tmp_path / "pandas-imported" / "ds")
    assert any(name.startswith("2026.12.01/papers/part-") for name in skipped)
    assert "2026.12.01/croissant.json" in skipped
    assert skipped.keys() == imported.keys()
    assert [name for name in skipped if skipped[name] != imported[name]] == []


def test_pyarrow_still_reads_pandas_objects_once_pandas_is_asked_for() -> None:
    """The documented price (docs/startup.md): until pyarrow's pandas functions ran, a Series handed to
    `pa.array` is a plain sequence (its missing value NaN, not null); after one ran, pyarrow knows pandas."""
    probe = ("import sys; from paperset.app.process import skip_pandas_probe; skip_pandas_probe(); "
             "import pyarrow as pa; print('pandas' in sys.modules); "
             "import pandas as pd; series = pd.Series([1.0, None]); print(pa.array(series).null_count); "
             "frame = pa.table({'a': [1, 2]}).to_pandas(); print(pa.array(series).null_count); "
             "print(pa.Table.from_pandas(frame).column('a').to_pylist(), pa.array(frame['a']).type)")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         check=True)
    assert out.stdout.split("\n")[:4] == ["False", "0", "1", "[1, 2] int64"]


def test_redis_errors_are_caught_once_redis_py_is_loaded_and_nothing_before() -> None:
    probe = ("from paperset.app.exits import redis_errors; print(redis_errors()); "
             "import redis.exceptions; print([e.__name__ for e in redis_errors()])")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         check=True)
    assert out.stdout.split("\n")[:2] == ["()", "['RedisError']"]


def test_switched_off_scrapy_components_are_left_out_and_come_back_when_switched_on() -> None:
    from paperset.app.crawl import CrawlJob, crawl_settings

    remote, cookies = "scrapy.extensions.remote_control.RemoteControl", \
        "scrapy.downloadermiddlewares.cookies.CookiesMiddleware"
    off = crawl_settings(CrawlJob())
    assert remote not in off.getwithbase("EXTENSIONS")
    assert cookies not in off.getwithbase("DOWNLOADER_MIDDLEWARES")
    assert "scrapy.extensions.telnet.TelnetConsole" in off.getwithbase("EXTENSIONS")  # only those two
    on = crawl_settings(CrawlJob(settings={"REMOTE_CONTROL_ENABLED": "True", "COOKIES_ENABLED": "True"}))
    assert on.getwithbase("EXTENSIONS")[remote] == 0
    assert on.getwithbase("DOWNLOADER_MIDDLEWARES")[cookies] == 700


def test_building_the_parser_imports_none_of_the_heavy_modules() -> None:
    probe = ("import json, sys; from paperset.cli import build_parser; build_parser(); "
             f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({list(HEAVY)!r})))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_the_coordinator_of_a_distributed_run_loads_no_download_handler() -> None:
    """The coordinator seeds and drains; it downloads nothing, so it does not pay for Scrapy's HTTP/TLS
    handlers (0.1 s)."""
    code = ("import sys, json; import paperset.app.run, paperset.app.workers; print(json.dumps(sorted(m for m in "
            "('paperset.crawler.fetch.handler', 'scrapy.core.downloader.handlers.http11', "
            "'scrapy.core.downloader.tls') "
            "if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         check=True)
    assert json.loads(out.stdout) == []
