"""The fault suite (crawl side): on a replica with switchable faults, a run publishes only a complete
crawl of the site asked for, says which listing is missing and why, and its JSON outcome keeps one shape."""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from paperset.app.exits import KEYS
from paperset.crawler.replica.server import ReplicaServer
from tests.conftest import ROOT, run_paperset

pytestmark = pytest.mark.slow  # runs `paperset` end to end, several seconds a test (docs/testing.md)

FAST = ("-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_TIMES=1")


def run(server: ReplicaServer | str, root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    base = server if isinstance(server, str) else server.base_url
    return run_paperset("run", "--base-url", base, "--out", str(root), "--json", *FAST, *args)


def outcome(result: subprocess.CompletedProcess[str]) -> dict:
    """The one JSON line --json prints; fails when stdout holds anything else."""
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout[-2000:]
    record = json.loads(lines[0])
    assert set(KEYS) <= record.keys()
    assert record["exit_code"] == result.returncode
    return record


def versions(root: Path, name: str = "hf-papers") -> list[str]:
    folder = root / name
    return sorted(p.name for p in folder.iterdir() if p.name[0].isdigit()) if folder.is_dir() else []


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - loopback replica
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


# --- the replica's faults --------------------------------------------------------------------------

def test_replica_faults_switch_on_and_off_and_leave_the_normal_answer_untouched() -> None:
    with ReplicaServer() as server:
        url = server.base_url + "/api/daily_papers?date=2025-02-03"
        normal = get(url)
        server.add_fault(r"date=2025-02-03", "status", status=503, times=2)
        assert [get(url)[0] for _ in range(3)] == [503, 503, 200]
        assert get(url) == normal
        server.add_fault(r"date=2025-02-03", "replace", old=b'"title"', new=b'"TITLE"', times=1)
        assert b'"TITLE"' in get(url)[1] and get(url) == normal
        server.add_fault(r"date=2025-02-03", "truncate", times=1)
        with pytest.raises(Exception, match=r"IncompleteRead|Connection|reset"):
            urllib.request.urlopen(url, timeout=10).read()  # noqa: S310
        server.add_fault(r"date=2025-02-03", "reset", times=1)
        with pytest.raises((ConnectionError, urllib.error.URLError)):
            urllib.request.urlopen(url, timeout=10).read()  # noqa: S310
        assert get(url) == normal
        server.robots = "User-agent: *\nDisallow: /\n"
        assert get(server.base_url + "/robots.txt") == (200, b"User-agent: *\nDisallow: /\n")
        assert server.requests[-1] == ("GET", "/robots.txt", 200)
        assert ("GET", "/api/daily_papers?date=2025-02-03", 0) in server.requests  # the reset, logged


# --- completeness ---------------------------------------------------------------------------------

def test_a_listing_failing_for_good_makes_the_run_incomplete_and_the_next_run_fetches_only_it(tmp_path) -> None:
    with ReplicaServer() as server:
        server.add_fault(r"^/api/daily_papers\?date=2025-02-04&", "status", status=500)
        args = ("--range", "2025-02-03:2025-02-05", "--fetch", "api")
        first = run(server, tmp_path, *args)
        record = outcome(first)
        assert first.returncode == 5 and record["outcome"] == "incomplete"
        assert record["version"] is None and record["path"] is None
        assert "day 2025-02-04 (api: http_500)" in record["reasons"][0]
        assert "incomplete" in first.stderr and "day 2025-02-04 (api: http_500)" in first.stderr
        assert versions(tmp_path) == []
        coverage = {(r["kind"], r["key"]): (r["status"], r["reason"]) for r in record["crawl"]["coverage"]}
        assert coverage == {("day", "2025-02-03"): ("complete", None),
                            ("day", "2025-02-04"): ("incomplete", "api: http_500"),
                            ("day", "2025-02-05"): ("complete", None)}
        meta = json.loads((Path(record["crawl"]["run"]) / "spool" / "meta.json").read_text())
        assert meta["stats"]["paperset/coverage/incomplete"] == 1
        state = json.loads((Path(record["crawl"]["run"]) / "run.json").read_text())
        assert state["status"] == "incomplete"
        assert state["missing"] == [{"kind": "day", "key": "2025-02-04", "status": "incomplete",
                                     "reason": "api: http_500"}]
        server.faults.clear()
        seen = len(server.requests)
        second = run(server, tmp_path, *args)
        again = [path for _, path, _ in server.requests[seen:]]
    record = outcome(second)
    assert second.returncode == 0 and record["outcome"] == "published", second.stderr[-2000:]
    assert record["crawl"]["resumed"] is True
    assert again == ["/robots.txt", "/api/daily_papers?date=2025-02-04&limit=50&p=0"]
    assert record["papers"] == 4 + 11 + 6


def test_a_failing_api_page_is_incomplete_and_allow_partial_publishes_it_recorded(tmp_path) -> None:
    with ReplicaServer() as server:
        server.add_fault(r"date=2025-02-07&limit=5&p=2$", "status", status=500)
        args = ("--day", "2025-02-07", "--day", "2025-02-03", "--fetch", "api", "-s", "PAPERSET_API_PAGE_SIZE=5")
        held = run(server, tmp_path, *args)
        assert held.returncode == 5 and outcome(held)["outcome"] == "incomplete"
        assert "day 2025-02-07 (api page 2: http_500)" in held.stderr
        partial = run(server, tmp_path, *args, "--allow-partial")
    record = outcome(partial)
    assert partial.returncode == 0 and record["outcome"] == "published", partial.stderr[-2000:]
    assert record["papers"] == 10 + 4  # pages 0 and 1 of 2025-02-07, and 2025-02-03
    assert record["reasons"] == ["published with --allow-partial, missing: day 2025-02-07 (api page 2: http_500)"]
    version = Path(record["path"])
    manifest = json.loads((version / "manifest.json").read_text())
    assert manifest["missing_listings"] == [{"kind": "day", "key": "2025-02-07", "reason": "api page 2: http_500"}]
    assert "Listings asked for but missing (published with `--allow-partial`): day 2025-02-07 \\(api page 2: " \
           "http\\_500\\)." in (version / "README.md").read_text()


def test_an_over_long_search_is_incomplete_not_dropped_silently(tmp_path, replica) -> None:
    result = run(replica, tmp_path, "--search", "x" * 5000, "--day", "2025-02-03", "--fetch", "api")
    record = outcome(result)
    assert result.returncode == 5 and record["outcome"] == "incomplete"
    assert "(url_too_long (" in record["reasons"][0] and "search xxxxx" in record["reasons"][0]
    assert versions(tmp_path) == []


# --- failed: nothing reachable ----------------------------------------------------------------------

def test_500_everywhere_fails_without_a_version_also_with_a_parent(tmp_path) -> None:
    with ReplicaServer() as server:
        good = run(server, tmp_path, "--day", "2025-02-03")
        assert good.returncode == 0, good.stderr[-2000:]
        server.add_fault(r"^/(api|papers)", "status", status=500)
        broken = run(server, tmp_path, "--day", "2025-02-03")
    record = outcome(broken)
    assert broken.returncode == 1 and record["outcome"] == "failed"
    assert record["reasons"][0].startswith("every listing failed: day 2025-02-03 (http_500)")
    assert versions(tmp_path) == [good_version(good)]


def good_version(result: subprocess.CompletedProcess[str]) -> str:
    return json.loads(result.stdout.splitlines()[-1])["version"]


def test_a_dead_host_fails_fast_and_never_publishes(tmp_path) -> None:
    result = run("http://127.0.0.1:1", tmp_path, "--range", "2025-02-03:2025-02-28")
    record = outcome(result)
    assert result.returncode == 1 and record["outcome"] == "failed"
    assert record["reasons"][0].startswith("the site http://127.0.0.1:1 is unreachable: 4 connections failed")
    assert record["crawl"]["finish_reason"] == "site_unreachable"
    assert versions(tmp_path) == []


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/", "file:///etc/passwd#", "not a url", "http://", "http://h:x/"])
def test_only_http_and_https_base_urls(tmp_path, url) -> None:
    result = run_paperset("run", "--base-url", url, "--day", "2025-02-03", "--out", str(tmp_path / "o"), "--json")
    assert result.returncode == 2
    assert result.stderr.startswith("paperset run: ") and len(result.stderr.strip().splitlines()) == 1
    # --json: the outcome line even for bad input (#23), the stderr line as its error
    line = json.loads(result.stdout)
    assert (line["outcome"], line["exit_code"], line["error"]) == ("bad_input", 2, result.stderr.strip()[14:])
    assert not (tmp_path / "o").exists()


# --- only the site asked for -------------------------------------------------------------------

def test_a_day_page_redirecting_to_itself_is_a_bounded_loop(tmp_path) -> None:
    with ReplicaServer() as server:
        server.add_fault(r"^/papers/date/2025-02-05$", "redirect", location="/papers/date/2025-02-05")
        result = run(server, tmp_path, "--day", "2025-02-05", "--day", "2025-02-03", "--fetch", "page")
        asked = [path for _, path, _ in server.requests if path == "/papers/date/2025-02-05"]
    record = outcome(result)
    assert result.returncode == 5 and "day 2025-02-05 (redirect_loop)" in record["reasons"][0]
    assert len(asked) == 1


def test_redirects_to_another_host_are_never_followed(tmp_path) -> None:
    with ReplicaServer() as site, ReplicaServer(host="127.0.0.2") as other:
        site.add_fault(r"^/papers/date/2025-02-05$", "redirect", location=f"{other.base_url}/papers/date/2025-02-05")
        site.add_fault(r"^/api/papers/\d", "redirect", location=f"{other.base_url}/api/papers/2502.00001")
        listing = run(site, tmp_path / "a", "--day", "2025-02-05", "--day", "2025-02-03", "--fetch", "page")
        details = run(site, tmp_path / "b", "--day", "2025-02-03", "--fetch", "api", "--details")
        assert other.requests == []
    record = outcome(listing)
    assert listing.returncode == 5 and "day 2025-02-05 (offsite_redirect)" in record["reasons"][0]
    record = outcome(details)
    # The listing came; the details asked for did not (--fetch api: no page to fall back to).
    assert details.returncode == 5, details.stderr[-2000:]
    assert record["crawl"]["coverage"][0]["status"] == "complete"
    assert {(r["kind"], r["status"], r["reason"]) for r in record["crawl"]["coverage"][1:]} == {
        ("details", "incomplete", "api: http_302")}


def test_robots_disallow_all_means_no_request_but_robots_txt(tmp_path) -> None:
    with ReplicaServer() as server:
        server.robots = "User-agent: *\nDisallow: /\n"
        days = server.index["days"]
        result = run(server, tmp_path, "--range", f"{days[0]}:{days[9]}", "--search", "Seeker",
                     "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8")
        asked = [path for _, path, _ in server.requests]
    record = outcome(result)
    assert asked == ["/robots.txt"]
    assert result.returncode == 1 and record["outcome"] == "failed"
    assert "(api: robots_txt)" in record["reasons"][0]
    assert versions(tmp_path) == []


def test_a_password_in_the_base_url_is_written_nowhere(tmp_path) -> None:
    with ReplicaServer() as server:
        url = server.base_url.replace("http://", "http://crawler:s3cr3t-pw@")
        result = run(url, tmp_path, "--day", "2025-02-03", "--search", "Seeker", "-s", "LOG_LEVEL=DEBUG",
                     "-s", "PAPERSET_ALLOWED_HOSTS=https://mirror:s3cr3t-too@127.0.0.9")
        auth = [path for _, path, _ in server.requests]
    record = outcome(result)
    assert result.returncode == 0 and record["outcome"] == "published", result.stderr[-2000:]
    assert "/api/daily_papers?date=2025-02-03&limit=50&p=0" in auth
    assert "s3cr3t" not in result.stdout + result.stderr
    leaked = [str(p) for p in tmp_path.rglob("*") if p.is_file() and b"s3cr3t" in p.read_bytes()]
    assert leaked == []
    assert (Path(record["path"]) / "README.md").read_text().count(server.base_url) >= 1


# --- the JSON outcome ----------------------------------------------------------------------------

def test_the_json_outcome_has_the_same_keys_for_every_outcome(tmp_path) -> None:
    import sys

    seen = {}
    with ReplicaServer() as server:
        published = run(server, tmp_path, "--day", "2025-02-03", "--fetch", "page")
        unchanged = run(server, tmp_path, "--day", "2025-02-03", "--fetch", "page")
        server.layout_changed = True
        tripped = run(server, tmp_path, "--day", "2025-02-03", "--fetch", "page")
        server.layout_changed = False
        server.add_fault(r"^/papers/date/2025-02-04", "status", status=500)
        incomplete = run(server, tmp_path, "--day", "2025-02-03", "--day", "2025-02-04", "--fetch", "page")
        failed = run(server, tmp_path, "--day", "2025-02-04", "--fetch", "page")
        hold = ("import sys, time; from pathlib import Path; from paperset.packager.lock import dataset_lock\n"
                "with dataset_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(60)\n")
        holder = subprocess.Popen([sys.executable, "-c", hold, str(tmp_path / "hf-papers")], stdout=subprocess.PIPE,
                                  text=True, cwd=ROOT)
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
            locked = run(server, tmp_path, "--day", "2025-02-03")
        finally:
            holder.kill()
            holder.wait()
    for name, result, code in (("published", published, 0), ("unchanged", unchanged, 0), ("gate_tripped", tripped, 3),
                               ("incomplete", incomplete, 5), ("failed", failed, 1), ("locked", locked, 4)):
        record = outcome(result)
        seen[name] = record
        assert (record["outcome"], result.returncode) == (name, code), result.stderr[-1500:]
    version = seen["published"]["version"]
    assert seen["published"]["parent"] is None and seen["published"]["reasons"] is None
    assert (seen["unchanged"]["version"], seen["unchanged"]["parent"]) == (None, version)
    assert seen["gate_tripped"]["parent"] == version and seen["gate_tripped"]["version"] is None
    assert seen["gate_tripped"]["reasons"][0].startswith("no entries from 1 listings")
    assert "is being written by another paperset run" in seen["locked"]["reasons"][0]
    # The human summary went to stderr.
    assert "pages fetched" in published.stderr and "published       " in published.stderr


# --- text --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("control", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067",
                                     "\u2068", "\u2069"])
def test_bidi_controls_are_stripped(control) -> None:
    from paperset.crawler.clean.normalize import clean_text

    assert clean_text(f"Safe{control} title&#x{ord(control):x};") == "Safe title"


def test_a_poisoned_title_with_a_bidi_override_is_stored_clean(tmp_path) -> None:
    import pyarrow.parquet as pq

    with ReplicaServer() as server:
        server.add_fault(r"date=2025-02-03", "replace", old=b'"title": "', new=b'"title": "\\u202egnp.exe ')
        result = run(server, tmp_path, "--day", "2025-02-03", "--fetch", "api")
    record = outcome(result)
    assert result.returncode == 0, result.stderr[-2000:]
    titles = pq.read_table(Path(record["path"]) / "papers", columns=["title"]).column("title").to_pylist()
    assert len(titles) == 4 and all(t.startswith("gnp.exe ") and "\u202e" not in t for t in titles)


@pytest.mark.browser
def test_the_browser_sends_nothing_to_another_host(tmp_path) -> None:
    # The other server is on 127.0.0.1 too (another port), which Chromium's host rules let through:
    # only the route interception can stop these.
    with ReplicaServer() as site, ReplicaServer() as other:
        leak = other.base_url
        script = (f'<script>fetch("{leak}/by-fetch").catch(() => 0);'
                  f'const s = document.createElement("script"); s.src = "{leak}/by-script.js";'
                  'document.head.appendChild(s);</script></body>')
        site.add_fault(r"^/papers/date/2025-02-03$", "replace", old=b"</body>", new=script.encode())
        away = f'<script>setTimeout(() => {{ location = "{leak}/by-location"; }}, 50);</script></body>'
        site.add_fault(r"^/papers/date/2025-02-04$", "replace", old=b"</body>", new=away.encode())
        args = ("--fetch", "browser", "-s", "PAPERSET_BROWSER_QUIET_MS=1500")
        fetching = run(site, tmp_path / "a", "--day", "2025-02-03", *args)
        leaving = run(site, tmp_path / "b", "--day", "2025-02-04", *args)
        assert other.requests == []
    record = outcome(fetching)
    assert fetching.returncode == 0 and record["outcome"] == "published", fetching.stderr[-2000:]
    assert record["papers"] == 4
    meta = json.loads((Path(record["crawl"]["run"]) / "spool" / "meta.json").read_text())
    assert meta["stats"]["paperset/browser/offsite_blocked"] == 2
    # The blocked navigation leaves the page on an error page: that listing is not published from it.
    record = outcome(leaving)
    assert leaving.returncode == 1 and record["reasons"][0].startswith("every listing failed: day 2025-02-04 (browser")
    meta = json.loads((Path(record["crawl"]["run"]) / "spool" / "meta.json").read_text())
    assert meta["stats"]["paperset/browser/offsite_blocked"] == 1


# --- the health gate compares like with like ----------------------------------------------------

def test_the_gate_compares_listings_present_in_both_runs_per_kind() -> None:
    from paperset.packager.health import Health, check

    filled = dict.fromkeys(("title", "abstract", "authors", "published_at", "upvotes", "num_comments"), 1.0)
    before = Health(4, 120, 0, 0, 0, {}, filled, {"day 2025-02-05": 6, "week 2025-W06": 80, "search x": 34})
    small = Health(3, 12, 0, 0, 0, {}, filled, {"day 2025-02-05": 6, "search Seeker": 3, "search WebSailor": 3})
    assert check(small, before) == []
    thin = Health(2, 44, 0, 0, 0, {}, filled, {"day 2025-02-05": 2, "week 2025-W06": 39})
    assert check(thin, before) == ["entries of the 1 day listings in both runs fell to 2 from 6",
                                   "entries of the 1 week listings in both runs fell to 39 from 80"]


def test_a_small_run_after_a_large_one_does_not_trip_the_gate(tmp_path) -> None:
    with ReplicaServer() as server:
        large = run(server, tmp_path, "--range", "2025-02-03:2025-02-14", "--week", "2025-W06",
                    "--search", "pretraining", "--fetch", "api")
        assert large.returncode == 0, large.stderr[-2000:]
        small = run(server, tmp_path, "--search", "Seeker", "--search", "WebSailor", "--day", "2025-02-05",
                    "--fetch", "api")
    record = outcome(small)
    assert small.returncode == 0 and record["outcome"] in ("published", "unchanged"), small.stderr[-2000:]
    assert record["health"]["tripped"] == []


def test_resets_truncation_stalls_and_oversized_answers_each_name_their_listing(tmp_path) -> None:
    with ReplicaServer() as server:
        api = server.base_url + "/api/daily_papers?date={}&limit=50&p=0"
        largest = max(len(get(api.format(day))[1]) for day in ("2025-02-03", "2025-02-04", "2025-02-05",
                                                                "2025-02-06", "2025-02-07"))
        server.add_fault(r"date=2025-02-03&", "reset")
        server.add_fault(r"date=2025-02-04&", "truncate")
        server.add_fault(r"date=2025-02-05&", "stall", seconds=4)
        server.add_fault(r"date=2025-02-06&", "replace", old=b"[", new=b"[" + b" " * (3 * largest))
        result = run(server, tmp_path, "--range", "2025-02-03:2025-02-07", "--fetch", "api",
                     "-s", "DOWNLOAD_TIMEOUT=2", "-s", f"DOWNLOAD_MAXSIZE={2 * largest}",
                     "-s", "PAPERSET_UNREACHABLE_AFTER=50")
    record = outcome(result)
    assert result.returncode == 5 and record["outcome"] == "incomplete"
    reasons = {r["key"]: r["reason"] for r in record["crawl"]["coverage"]}
    assert reasons["2025-02-07"] is None
    assert reasons["2025-02-03"] in ("api: responseneverreceived", "api: downloadfailederror",
                                     "api: connectionlost", "api: responsefailed")
    assert reasons["2025-02-04"] in ("api: responsedatalosserror", "api: responsefailed")
    assert reasons["2025-02-05"] == "api: downloadtimeouterror"
    assert reasons["2025-02-06"] == "api: downloadcancellederror"
    assert versions(tmp_path) == []


def test_crawl_exits_5_naming_an_incomplete_listing(tmp_path) -> None:
    with ReplicaServer() as server:
        server.add_fault(r"date=2025-02-04&", "status", status=404)
        result = run_paperset("crawl", "--base-url", server.base_url, "--day", "2025-02-03", "--day", "2025-02-04",
                              "--fetch", "api", "--out", str(tmp_path / "e.jsonl"), "--json", *FAST)
    assert result.returncode == 5
    assert result.stderr.strip().splitlines()[-1] == "paperset crawl: incomplete: day 2025-02-04 (api: http_404)"
    assert "incomplete      1 of 2 listings" in result.stdout
    last = json.loads(result.stdout.strip().splitlines()[-1])  # README: the outcome line, last
    assert (last["outcome"], last["exit_code"]) == ("incomplete", 5)
    assert last["reasons"] == ["incomplete: day 2025-02-04 (api: http_404)"]
    assert len((tmp_path / "e.jsonl").read_text().splitlines()) == 4


def test_a_host_that_never_answers_fails_without_waiting_out_every_timeout(tmp_path) -> None:
    with ReplicaServer() as server:
        server.add_fault(r".", "stall", seconds=20)
        result = run(server, tmp_path, "--range", "2025-02-03:2025-02-14", "-s", "PAPERSET_FIRST_CONTACT_TIMEOUT_S=1",
                     "-s", "RETRY_TIMES=3")
    record = outcome(result)
    assert result.returncode == 1 and record["crawl"]["finish_reason"] == "site_unreachable"
    assert record["reasons"][0].endswith("is unreachable: 4 connections failed in a row: nothing published")
    assert versions(tmp_path) == []
