"""Every case folder under fixtures/ is a test: extraction must give exactly its expected.json."""

from __future__ import annotations

import pytest

from crawler.fixture_cases import extract_case, find_cases

from ..conftest import ROOT

CASES = find_cases(ROOT / "fixtures")


def test_the_required_cases_are_there() -> None:
    names = {case.path.name for case in CASES}
    assert {"listing-2024-08-01", "paper-2509.24002-prettified", "listing-2024-08-01-broken-json",
            "listing-2024-08-01-no-hydration", "listing-2025-03-03"} <= names


@pytest.mark.parametrize("case", CASES, ids=[case.path.name for case in CASES])
def test_fixture_case(case) -> None:
    assert extract_case(case) == case.expected()


def test_fixture_save_records_a_case_that_replays(replica, tmp_path) -> None:
    from ..conftest import run_paperset

    url = f"{replica.base_url}/papers/week/2025-W07"
    result = run_paperset("fixture", "save", url, "--name", "week-07", "--fixtures", str(tmp_path))
    assert result.returncode == 0, result.stderr
    [case] = find_cases(tmp_path)
    assert case.meta["listing_kind"] == "week" and case.meta["listing_key"] == "2025-W07"
    assert case.meta["rendered"] is False and case.meta["url"] == url
    expected = case.expected()
    assert [e["paper_id"] for e in expected["entries"]] == [
        i["paper"]["id"] for i in replica.site.items("week", "2025-W07")]
    assert extract_case(case) == expected
    again = run_paperset("fixture", "save", url, "--name", "week-07", "--fixtures", str(tmp_path))
    assert again.returncode == 2 and "exists" in again.stderr
