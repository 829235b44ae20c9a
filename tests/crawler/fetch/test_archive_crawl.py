"""The web archive on real crawls of the replica (docs/archive.md): a recorded run replayed with the replica
stopped gives the same tables row for row; a killed recording leaves a readable archive that holds every
request the ledger names; a response the archive lacks leaves its listing incomplete (exit 5); a password
in the base URL never reaches the archive; the browser path is recorded and replayed."""

from __future__ import annotations

import base64
import gzip
import json
import os
import signal
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow.parquet as pq
import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.warcwriter import WARCWriter

from paperset.crawler.replica.server import ReplicaServer
from paperset.spool.ledger import read_ledger
from tests.conftest import ROOT, last_json, run_paperset, snapshot_rows

pytestmark = pytest.mark.slow  # runs `paperset` end to end, seconds a test (docs/testing.md)

FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "PAPERSET_BUDGET_API=0", "-s", "PAPERSET_BUDGET_PAGES=0"]


def listing_args(server: ReplicaServer) -> list[str]:
    days = server.index["days"]
    return ["--range", f"{days[0]}:{days[3]}", "--week", "2025-W06", "--search", "WebSailor", "--details",
            "-s", "PAPERSET_API_PAGE_SIZE=20", *FAST]


def tables(version: Path) -> dict[str, list[dict]]:
    """Both tables whole, time columns included, in file order."""
    return {name: pq.read_table(sorted((version / name).glob("part-*.parquet"))).to_pylist()
            for name in ("papers", "observations")}


def responses(path: Path) -> list[tuple[str, dict[str, str]]]:
    """(URI, WARC header fields) of every response record, read back with warcio."""
    with path.open("rb") as stream:
        return [(r.rec_headers.get_header("WARC-Target-URI"), dict(r.rec_headers.headers))
                for r in ArchiveIterator(stream) if r.rec_type == "response"]


def ms(warc_date: str) -> datetime:
    """A WARC-Date at the tables' precision (milliseconds)."""
    when = datetime.fromisoformat(warc_date.replace("Z", "+00:00"))
    return when.replace(microsecond=when.microsecond // 1000 * 1000)


def times(row: dict) -> set[datetime]:
    """Every time a table row holds (a paper's first and last sighting and its listings', an observation's)."""
    found = {row.get(name) for name in ("observed_at", "first_seen_at", "last_seen_at")}
    found |= {listing["seen_at"] for listing in row.get("listings") or []}
    return {t.astimezone(UTC) for t in found if t is not None}


def target(uri: str) -> str:
    parts = urlsplit(uri)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_a_replayed_run_gives_the_same_tables_row_for_row_with_the_site_stopped(tmp_path) -> None:
    with ReplicaServer() as server:
        days = server.index["days"]
        server.add_fault(rf"/api/daily_papers\?date={days[1]}&", status=500, times=1)  # retried, then answered
        server.add_fault(rf"/api/daily_papers\?date={days[2]}&", status=404)  # the page path serves this day
        args = listing_args(server)
        live = run_paperset("run", *args, "--base-url", server.base_url, "--out", str(tmp_path / "live"), "--json")
        seen = Counter(path for _, path, _ in server.requests)
    assert live.returncode == 0, live.stderr[-3000:]
    recorded = last_json(live.stdout)
    run = Path(recorded["crawl"]["run"]).name
    archive = tmp_path / "live" / "hf-papers" / "archive" / f"{run}.warc.gz"
    assert recorded["archive"] == [str(archive)]
    # The archive is beside the version, never in it: `paperset publish` copies or uploads the version only.
    assert [p for p in Path(recorded["path"]).rglob("*") if "warc" in p.name] == []
    # Every request the site answered has its response in the archive, retries and robots.txt included.
    assert Counter(target(uri) for uri, _ in responses(archive)) == seen
    assert seen[f"/api/daily_papers?date={days[1]}&limit=20&p=0"] == 2
    # The replica is stopped: no --base-url, the archive says which site it recorded.
    replay = run_paperset("run", *args, "--from-archive", str(archive), "--out", str(tmp_path / "replay"), "--json")
    assert replay.returncode == 0, replay.stderr[-3000:]
    replayed = last_json(replay.stdout)
    assert replayed["archive"] == []
    assert replayed["crawl"]["fetch_paths"] == recorded["crawl"]["fetch_paths"] == {"api": 5, "page": 1}
    assert (replayed["papers"], replayed["observations"]) == (recorded["papers"], recorded["observations"])
    assert tables(Path(replayed["path"])) == tables(Path(recorded["path"]))


def without(archive: Path, out: Path, dropped: str) -> Path:
    """A copy of `archive` without the exchanges whose URI contains `dropped`."""
    writer_out = out.open("wb")
    writer = WARCWriter(writer_out, gzip=True, warc_version="1.1")
    with archive.open("rb") as stream:
        for record in ArchiveIterator(stream):
            if dropped not in (record.rec_headers.get_header("WARC-Target-URI") or ""):
                writer.write_record(record)
    writer_out.close()
    return out


def test_an_archive_lacking_a_response_leaves_that_listing_incomplete(tmp_path) -> None:
    with ReplicaServer() as server:
        args = ["--day", server.index["days"][0], "--day", server.index["days"][1], *FAST]
        live = run_paperset("run", *args, "--base-url", server.base_url, "--out", str(tmp_path / "live"), "--json")
    assert live.returncode == 0, live.stderr[-3000:]
    day = server.index["days"][1]
    cut = without(Path(last_json(live.stdout)["archive"][0]), tmp_path / "cut.warc.gz", f"date={day}")
    replay = run_paperset("run", *args, "--from-archive", str(cut), "--out", str(tmp_path / "replay"), "--json")
    outcome = last_json(replay.stdout)
    assert (replay.returncode, outcome["outcome"], outcome["version"]) == (5, "incomplete", None)
    # The API answer is missing, then the page the spider falls back to: both named, nothing invented.
    assert f"day {day} (not_in_archive)" in outcome["reasons"][0]
    assert outcome["crawl"]["coverage"] == [
        {"kind": "day", "key": server.index["days"][0], "status": "complete", "reason": None},
        {"kind": "day", "key": day, "status": "incomplete", "reason": "not_in_archive"}]


def recording(server: ReplicaServer, out: Path) -> list[str]:
    """The arguments of a run over every replica day, in small pages and spool flushes (many requests)."""
    days = server.index["days"]
    return ["run", "--range", f"{days[0]}:{days[-1]}", "--fetch", "api", "-s", "PAPERSET_API_PAGE_SIZE=5",
            "-s", "PAPERSET_SPOOL_FLUSH_EVERY=3", *FAST, "--base-url", server.base_url, "--out", str(out), "--json"]


def kill_after(server: ReplicaServer, args: list[str], requests: int) -> None:
    """Starts `paperset *args` and kills it (SIGKILL) once the replica has answered `requests` requests."""
    process = subprocess.Popen([str(ROOT / ".venv/bin/paperset"), *args], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while len(server.timed) < requests and process.poll() is None:
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate()


def test_a_killed_recording_leaves_a_readable_archive_holding_every_request_of_the_ledger(tmp_path) -> None:
    with ReplicaServer() as server:
        server.delay_s = 0.02
        args = recording(server, tmp_path)
        kill_after(server, args, 40)
    (run,) = (tmp_path / "hf-papers" / ".runs").iterdir()
    archive = tmp_path / "hf-papers" / "archive" / f"{run.name}.warc.gz"
    # Readable to its end by warcio: every record complete, no cut gzip member.
    recorded = responses(archive)
    assert len(gzip.decompress(archive.read_bytes())) > 0
    fingerprints = Counter(fields["Paperset-Request-Fingerprint"] for _, fields in recorded)
    ledger = read_ledger(run / "spool" / "ledger.jsonl")
    assert len(ledger) >= 10
    assert {fp for fp in ledger if fingerprints[fp] == 0} == set()
    # The ledger is behind the archive (it names a request once its entries are on disk), the archive behind
    # the site (a response on the wire at the kill is in neither).
    assert len(ledger) <= len(recorded) <= len(server.timed)


def test_a_killed_and_resumed_run_replays_from_its_two_archives_to_the_same_tables(tmp_path) -> None:
    with ReplicaServer() as server:
        args = recording(server, tmp_path / "live")
        server.delay_s = 0.02
        kill_after(server, args, 40)
        server.delay_s = 0.0
        resumed = run_paperset(*args)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    recorded = last_json(resumed.stdout)
    run = Path(recorded["crawl"]["run"]).name
    assert recorded["crawl"]["resumed"] is True
    assert [Path(p).name for p in recorded["archive"]] == [f"{run}.warc.gz", f"{run}-2.warc.gz"]
    listings = args[1:args.index("--base-url")]
    replay = run_paperset("run", *listings, *[f"--from-archive={p}" for p in recorded["archive"]],
                          "--out", str(tmp_path / "replay"), "--json")
    assert replay.returncode == 0, replay.stderr[-3000:]
    replayed = Path(last_json(replay.stdout)["path"])
    assert snapshot_rows(replayed) == snapshot_rows(Path(recorded["path"]))
    # Row for row, time columns included, but for the requests in flight at the kill, which both crawls
    # answered: the replay takes the resumed crawl's answer; the run kept the killed crawl's entries when
    # they reached the spool before their ledger line (docs/archive.md).
    first, second = ({uri: fields["WARC-Date"] for uri, fields in responses(Path(p))} for p in recorded["archive"])
    in_flight = {ms(first[uri]) for uri in first.keys() & second.keys()}
    live, again = tables(Path(recorded["path"])), tables(replayed)
    for name in live:
        kept = [i for i, row in enumerate(live[name]) if not times(row) & in_flight]
        assert len(kept) > 0.8 * len(live[name])
        assert [again[name][i] for i in kept] == [live[name][i] for i in kept]


def test_a_password_in_the_base_url_never_reaches_the_archive(tmp_path) -> None:
    with ReplicaServer() as server:
        base = server.base_url.replace("http://", "http://reader:hunter2secret@")
        done = run_paperset("run", "--day", server.index["days"][0], *FAST, "--base-url", base,
                            "--out", str(tmp_path), "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    (archive,) = last_json(done.stdout)["archive"]
    data = gzip.decompress(Path(archive).read_bytes())
    sent = base64.b64encode(b"reader:hunter2secret")
    assert b"hunter2secret" not in data and sent not in data
    assert data.count(b"\r\nAuthorization: ***\r\n") == 2  # robots.txt and the day's API page asked with it
    assert b"reader" not in data


@pytest.mark.browser
def test_the_browser_path_is_recorded_as_rendered_and_replays(tmp_path) -> None:
    with ReplicaServer(dynamic=True) as server:
        args = ["--search", "pretraining", "--fetch", "browser", *FAST]
        live = run_paperset("run", *args, "--base-url", server.base_url, "--out", str(tmp_path / "live"), "--json")
        seen = Counter(path for _, path, _ in server.requests)
    assert live.returncode == 0, live.stderr[-3000:]
    recorded = last_json(live.stdout)
    archived = responses(Path(recorded["archive"][0]))
    page = f"{server.base_url}/papers?q=pretraining"
    # Everything Chromium received rendering the page (the page as served first), and the page as rendered:
    # its script and the API answers the script asked for are kept, not replayed; the rendered page is.
    assert [fields.get("Paperset-Rendered") for uri, fields in archived if uri == page] == [None, "browser"]
    browser = [target(uri) for uri, fields in archived if fields.get("Paperset-Browser-Page") == page]
    assert sum("/api/papers/search" in path for path in browser) >= 2
    assert Counter(target(uri) for uri, fields in archived if "Paperset-Rendered" not in fields) == seen
    replay = run_paperset("run", *args, "--from-archive", recorded["archive"][0], "--out", str(tmp_path / "replay"),
                          "--json")
    assert replay.returncode == 0, replay.stderr[-3000:]
    replayed = last_json(replay.stdout)
    assert replayed["crawl"]["fetch_paths"] == {"browser": 1}
    assert tables(Path(replayed["path"])) == tables(Path(recorded["path"]))
    assert json.loads(json.dumps(replayed["papers"])) == recorded["papers"] > 0


def test_a_fixture_case_is_cut_from_an_archive_as_fetching_would_save_it(tmp_path) -> None:
    with ReplicaServer() as server:
        day = server.index["days"][0]
        url = f"{server.base_url}/api/daily_papers?date={day}&limit=50&p=0"
        live = run_paperset("run", "--day", day, *FAST, "--base-url", server.base_url, "--out", str(tmp_path), "--json")
        fetched = run_paperset("fixture", "save", url, "--name", "fetched", "--fixtures", str(tmp_path / "f"))
    assert (live.returncode, fetched.returncode) == (0, 0), live.stderr[-2000:] + fetched.stderr
    (archive,) = last_json(live.stdout)["archive"]
    cut = run_paperset("fixture", "save", url, "--name", "cut", "--from-archive", archive,
                       "--fixtures", str(tmp_path / "f"))
    assert cut.returncode == 0, cut.stderr
    cases = tmp_path / "f" / "cases" / "api_listing"
    for name in ("answer.json", "expected.json"):
        assert (cases / "cut" / name).read_text() == (cases / "fetched" / name).read_text()
    entries = json.loads((cases / "cut" / "expected.json").read_text())["entries"]
    assert [e["paper_id"] for e in entries] == [item["paper"]["id"] for item in server.site.items("day", day)]
    meta = json.loads((cases / "cut" / "meta.json").read_text())
    (recorded,) = [fields for uri, fields in responses(Path(archive)) if uri == url]
    assert meta["captured_at"] == recorded["WARC-Date"]
    assert meta["provenance"].endswith(f"{archive}#{recorded['WARC-Record-ID']}")
    gone = run_paperset("fixture", "save", url.replace("p=0", "p=1"), "--name", "gone", "--from-archive", archive,
                        "--fixtures", str(tmp_path / "f"))
    assert (gone.returncode, gone.stderr) == (1, f"paperset fixture save: no answer to {url.replace('p=0', 'p=1')} "
                                                 f"in {archive}; nothing saved\n")
    assert sorted(p.name for p in cases.iterdir()) == ["cut", "fetched"]


@pytest.mark.redis
def test_a_distributed_run_records_one_archive_per_worker_and_replays_from_them_all(tmp_path) -> None:
    from tests.conftest import redis_server

    with ReplicaServer() as server, redis_server(tmp_path) as url:
        days = server.index["days"]
        args = ["--range", f"{days[0]}:{days[5]}", "--fetch", "api", "-s", "PAPERSET_API_PAGE_SIZE=5", *FAST]
        live = run_paperset("run", *args, "--base-url", server.base_url, "--out", str(tmp_path / "live"), "--json",
                            "--redis", url, "--workers", "2", timeout=240)
        seen = Counter(path for _, path, _ in server.requests)
    assert live.returncode == 0, live.stderr[-3000:]
    recorded = last_json(live.stdout)
    run = Path(recorded["crawl"]["run"]).name
    archives = [Path(p) for p in recorded["archive"]]
    assert len(archives) == 2 and all(p.name.startswith(f"{run}-") for p in archives)
    # Each worker fetched robots.txt itself; together they hold an answer to every request the site saw.
    assert sum((Counter(target(uri) for uri, _ in responses(p)) for p in archives), Counter()) == seen
    replay = run_paperset("run", *args, "--from-archive", str(archives[0]), "--from-archive", str(archives[1]),
                          "--out", str(tmp_path / "replay"), "--json")
    assert replay.returncode == 0, replay.stderr[-3000:]
    assert tables(Path(last_json(replay.stdout)["path"])) == tables(Path(recorded["path"]))
