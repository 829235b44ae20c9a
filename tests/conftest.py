"""Shared test fixtures: repository paths, the bundled real data (fixtures/), servers on loopback."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The parts of the code, each a package of the one `paperset` namespace (docs/architecture.md), top layer
# first: the command line, the application, the crawler and the packager side by side, the spool contract.
PARTS = ("paperset/cli", "paperset/app", "paperset/crawler", "paperset/packager", "paperset/spool")
FIXTURES = ROOT / "fixtures"
# A slice of the real API corpus (every 2025 item plus the known near copies): 3,942 items.
CORPUS = FIXTURES / "corpus" / "api-daily-papers.jsonl.gz"


@pytest.fixture(scope="session")
def corpus_path() -> Path:
    """The bundled slice of the real API corpus (JSON lines, gzip), inside the repository."""
    return CORPUS


@pytest.fixture(scope="session")
def replica():
    """The bundled replica served on a free loopback port for the whole session."""
    from paperset.crawler.replica.server import ReplicaServer

    with ReplicaServer() as server:
        yield server


def corpus_spool(folder: Path, corpus_path: Path, count: int, *, meta: dict | None = None,
                 bump: dict[str, int] | None = None, finish: bool = True, part_bytes: int | None = None) -> Path:
    """The corpus slice's first `count` items as a spool, as the crawl would write them (normalization
    aside); `bump` adds upvotes to some papers; `finish=False` leaves it flushed but unfinished;
    `part_bytes`: a new part past that size (else the writer's)."""
    import gzip

    from paperset.spool.writer import SpoolWriter

    writer = SpoolWriter(folder, meta or {"run_id": folder.name, "base_url": "http://127.0.0.1", "listings": []},
                         **({"part_bytes": part_bytes} if part_bytes else {}))
    with gzip.open(corpus_path, "rt", encoding="utf-8") as lines:
        for _, line in zip(range(count), lines, strict=False):
            row = json.loads(line)
            paper = row["paper"]
            writer.write({"paper_key": paper["id"], "paper_id": paper["id"], "title": paper["title"],
                          "abstract": paper["summary"], "authors": [a["name"] for a in paper["authors"]],
                          "published_at": paper["publishedAt"],
                          "upvotes": paper["upvotes"] + (bump or {}).get(paper["id"], 0),
                          "num_comments": row["numComments"], "listing_kind": "day",
                          "listing_key": row["_file_date"], "rank": row["_rank"],
                          "crawled_at": f"{row['_file_date']}T12:00:00+00:00", "fetch_path": "api"})
    if finish:
        writer.close({"paperset/fetch/api": 1})
    else:
        writer.flush()
    return folder


def slow_paperset(seconds: float) -> list[str]:
    """The command line of `paperset` pausing `seconds` after each packaging step (tests/slow_steps.py),
    to run with cwd=ROOT: a kill test's way to land a kill inside every step."""
    return [str(ROOT / ".venv/bin/python"), "-m", "tests.slow_steps", str(seconds)]


def project_settings_dict(**overrides: object) -> dict:
    """the settings module's settings (every PAPERSET_ default lives there, components read them with
    no default of their own) with `overrides`: for crawlers built by `get_crawler` in component tests."""
    from paperset.crawler import settings as project

    return {**{name: getattr(project, name) for name in dir(project) if name.isupper()}, **overrides}


def project_crawler(spidercls: type | None = None, **overrides: object):
    """A crawler with the project's settings and `overrides` (Scrapy's get_crawler loads no project)."""
    from scrapy.utils.test import get_crawler

    return get_crawler(spidercls, settings_dict=project_settings_dict(**overrides))


def run_paperset(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the `paperset` console script of this checkout's venv; fail the test with its output on error."""
    result = subprocess.run([str(ROOT / ".venv/bin/paperset"), *args], capture_output=True, text=True,
                            timeout=timeout, cwd=ROOT)
    return result


def last_json(stdout: str) -> dict:
    """The JSON object a `--json` command prints as its last stdout line."""
    return json.loads(stdout.strip().splitlines()[-1])


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# Columns that say when a crawl saw something: they differ between two crawls of the same data.
TIME_COLUMNS = {"papers": ("first_seen_at", "last_seen_at"), "observations": ("observed_at",)}


def snapshot_rows(version: Path) -> dict[str, list[dict]]:
    """Both tables of a snapshot as rows, without the columns that record crawl times (and without
    `seen_at` inside `listings`): what two crawls of the same site must agree on. Papers stay in file
    order (by paper_key); what is ordered by the time of sighting (a paper's listings, a paper's
    observations) is put in content order, since two crawls meet a paper's listings in either order."""
    import pyarrow.parquet as pq

    out: dict[str, list[dict]] = {}
    for table, dropped in TIME_COLUMNS.items():
        rows = pq.read_table(sorted((version / table).glob("part-*.parquet"))).to_pylist()
        for row in rows:
            for name in dropped:
                row.pop(name)
            for listing in row.get("listings") or []:
                listing.pop("seen_at")
            if row.get("listings"):
                row["listings"].sort(key=lambda item: (item["kind"], item["key"], item["rank"]))
        if table == "observations":
            rows.sort(key=lambda r: tuple((v is None, str(v)) for v in r.values()))
        out[table] = rows
    return out


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def redis_server(folder: Path, password: str | None = None) -> Iterator[str]:
    """A real redis-server on a free loopback port, no persistence; yields its URL; stopped after."""
    import redis

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: apt-get install redis-server (make setup does it as root)")
    port = free_port()
    extra = ["--requirepass", password] if password else []
    server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                               "no", "--dir", str(folder), *extra], stdout=subprocess.DEVNULL)
    client = redis.Redis(port=port, password=password)
    try:
        for _ in range(200):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield f"redis://:{password}@127.0.0.1:{port}/0" if password else f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


def good(**changes):
    """A valid PaperEntry as the spider yields it (raw, before normalization), with `changes` applied."""
    from paperset.crawler.site.items import PaperEntry

    entry = PaperEntry(paper_id="2409.12568v2", title="A  title", abstract="An abstract.",
                       authors=[" Ada Lovelace "], published_at="2024-09-19T00:00:00.000Z", upvotes=3,
                       num_comments=0, listing_kind="day", listing_key="2024-09-20", rank=0,
                       source_url="http://127.0.0.1/papers/date/2024-09-20",
                       crawled_at="2024-09-20T10:00:00+00:00")
    for name, value in changes.items():
        setattr(entry, name, value)
    return entry


@pytest.fixture
def chain(tmp_path: Path):
    """The cleaning pipelines (normalize, validate, exact dedupe) of one crawler as a function: entry in,
    cleaned entry or the drop reason out; `.rejects()` reads the rejects log."""
    from scrapy.exceptions import DropItem

    from paperset.crawler.clean.rejects import Rejected, RejectsLog
    from paperset.crawler.pipelines.dedupe_exact import ExactDedupePipeline
    from paperset.crawler.pipelines.normalize import NormalizePipeline
    from paperset.crawler.pipelines.validate import ValidatePipeline

    crawler = project_crawler(PAPERSET_REJECTS=str(tmp_path / "rejects.jsonl"))
    crawler.stats.open_spider()
    steps = [NormalizePipeline.from_crawler(crawler), ValidatePipeline.from_crawler(crawler),
             ExactDedupePipeline.from_crawler(crawler)]
    log = RejectsLog.from_crawler(crawler)

    def run(entry):
        try:
            for step in steps:
                entry = step.process_item(entry)
        except DropItem as exc:
            log.item_dropped(entry, None, exc)
            return exc.reason if isinstance(exc, Rejected) else "other"
        return entry

    run.crawler = crawler
    run.rejects = lambda: [json.loads(line) for line in (tmp_path / "rejects.jsonl").read_text().splitlines()]
    return run
