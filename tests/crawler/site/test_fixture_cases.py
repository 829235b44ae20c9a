"""Every case folder under fixtures/cases/ is a test: extraction must give exactly its expected.json."""

from __future__ import annotations

import json

import pytest

from tests.conftest import ROOT, run_paperset
from tests.fixture_cases import extract_case, find_cases

CASES = find_cases(ROOT / "fixtures")


def test_the_required_cases_are_there() -> None:
    names = {case.name for case in CASES}
    assert {"listing_page/listing-2024-08-01", "paper_page/paper-2509.24002-prettified",
            "listing_page/listing-2024-08-01-broken-json", "listing_page/listing-2024-08-01-no-hydration",
            "listing_page/listing-2025-03-03"} <= names
    assert {case.extractor for case in CASES} == {"listing_page", "paper_page", "api_listing", "api_paper"}


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_fixture_case(case) -> None:
    assert extract_case(case) == case.expected()


def test_fixture_save_records_a_case_that_replays(replica, tmp_path) -> None:
    from tests.conftest import run_paperset

    url = f"{replica.base_url}/papers/week/2025-W07"
    result = run_paperset("fixture", "save", url, "--name", "week-07", "--fixtures", str(tmp_path))
    assert result.returncode == 0, result.stderr
    [case] = find_cases(tmp_path)
    assert case.name == "listing_page/week-07"
    assert case.meta["listing_kind"] == "week" and case.meta["listing_key"] == "2025-W07"
    assert case.meta["rendered"] is False and case.meta["url"] == url
    expected = case.expected()
    assert [e["paper_id"] for e in expected["entries"]] == [
        i["paper"]["id"] for i in replica.site.items("week", "2025-W07")]
    assert extract_case(case) == expected
    again = run_paperset("fixture", "save", url, "--name", "week-07", "--fixtures", str(tmp_path))
    assert again.returncode == 2 and "exists" in again.stderr


def test_fixture_save_records_an_api_answer_as_an_api_case(replica, tmp_path) -> None:
    from tests.conftest import run_paperset

    url = f"{replica.base_url}/api/daily_papers?date=2025-03-03&limit=5&p=1"
    result = run_paperset("fixture", "save", url, "--name", "day-p1", "--fixtures", str(tmp_path))
    assert result.returncode == 0, result.stderr
    [case] = find_cases(tmp_path)
    assert case.name == "api_listing/day-p1" and (case.path / "answer.json").is_file()
    meta = case.meta
    assert (meta["listing_kind"], meta["listing_key"], meta["offset"]) == ("day", "2025-03-03", 5)
    expected = case.expected()
    items = replica.site.items("day", "2025-03-03")[5:10]
    assert [(e["paper_id"], e["rank"]) for e in expected["entries"]] == [
        (item["paper"]["id"], 5 + i) for i, item in enumerate(items)]
    assert extract_case(case) == expected


@pytest.mark.parametrize(("url", "extractor", "shown"), [
    ("https://huggingface.co/papers/date/2025-03-03", "listing_page",
     {"page_type": "listing", "listing_kind": "day", "listing_key": "2025-03-03"}),
    ("https://huggingface.co/papers/2509.24002", "paper_page", {"page_type": "paper"}),
    ("https://huggingface.co/api/daily_papers?week=2025-W07&limit=50&p=2", "api_listing",
     {"listing_kind": "week", "listing_key": "2025-W07", "offset": 100}),
    ("https://huggingface.co/api/papers/search?q=pre-training", "api_listing",
     {"listing_kind": "search", "listing_key": "pre-training", "offset": 0}),
    ("https://huggingface.co/api/papers/2509.24002", "api_paper", {}),
])
def test_a_url_says_which_extractor_its_case_is_for(url, extractor, shown) -> None:
    from paperset.crawler.site.fixture_cases import meta_for_url

    assert meta_for_url(url) == (extractor, shown)


def test_an_api_url_that_is_no_listing_nor_paper_is_refused() -> None:
    from paperset.crawler.site.fixture_cases import meta_for_url

    with pytest.raises(ValueError, match="not a Hugging Face Papers API listing or paper URL"):
        meta_for_url("https://huggingface.co/api/models")


@pytest.mark.parametrize("render", [False, pytest.param(True, marks=pytest.mark.browser)], ids=["fetched", "rendered"])
def test_fixture_save_of_a_missing_page_is_one_line_and_saves_nothing(replica, tmp_path, render) -> None:
    from tests.conftest import run_paperset

    url = f"{replica.base_url}/papers/nothing-here"
    result = run_paperset("fixture", "save", url, "--name", "gone", "--fixtures", str(tmp_path),
                          *(["--render"] if render else []))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"paperset fixture save: could not fetch {url}: HTTP Error 404: Not Found; nothing saved\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("render", [False, pytest.param(True, marks=pytest.mark.browser)], ids=["fetched", "rendered"])
def test_fixture_save_of_a_refused_connection_is_one_line_and_saves_nothing(tmp_path, render) -> None:
    import socket

    from tests.conftest import run_paperset

    with socket.socket() as unused:  # a loopback port nobody listens on
        unused.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{unused.getsockname()[1]}/papers/date/2025-03-03"
    result = run_paperset("fixture", "save", url, "--name", "gone", "--fixtures", str(tmp_path),
                          *(["--render"] if render else []))
    assert (result.returncode, result.stdout, result.stderr.count("\n")) == (1, "", 1)
    assert result.stderr.startswith(f"paperset fixture save: could not fetch {url}: ")
    assert result.stderr.endswith("; nothing saved\n")
    assert "refused" in result.stderr.lower()
    assert list(tmp_path.iterdir()) == []


def test_fixture_update_regenerates_expected_json_and_says_what_changed(tmp_path) -> None:
    """`paperset fixture update`: each case's expected.json rewritten from the current extraction, with a
    summary of the changes for review (a column over many entries is one line); unchanged cases untouched."""
    import shutil

    root = ROOT / "fixtures"
    for case in ("api_listing/day-2025-05-15", "api_paper/2510.02297-all-fields"):
        shutil.copytree(root / "cases" / case, tmp_path / "cases" / case)
    listing = tmp_path / "cases" / "api_listing" / "day-2025-05-15" / "expected.json"
    good = listing.read_text(encoding="utf-8")
    stale = json.loads(good)
    for entry in stale["entries"]:
        del entry["discussion_id"]  # as written before the column existed
    stale["entries"][1]["title"] = "an old title"
    listing.write_text(json.dumps(stale), encoding="utf-8")
    paper = tmp_path / "cases" / "api_paper" / "2510.02297-all-fields" / "expected.json"
    before = paper.stat().st_mtime_ns
    result = run_paperset("fixture", "update", "--fixtures", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"{listing}:", "  entries[].discussion_id: added (3)",
                                          "  entries[].title: changed",
                                          "1 of 2 cases changed (review with git diff, then commit)"]
    assert listing.read_text(encoding="utf-8") == good
    assert paper.stat().st_mtime_ns == before
    again = run_paperset("fixture", "update", "day-2025-05-15", "--fixtures", str(tmp_path))
    assert again.stdout == "0 of 1 cases changed (review with git diff, then commit)\n"
    missing = run_paperset("fixture", "update", "no-such-case", "--fixtures", str(tmp_path))
    assert missing.returncode == 2 and "no fixture case 'no-such-case'" in missing.stderr
