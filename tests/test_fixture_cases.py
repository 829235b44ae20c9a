"""Every case folder under fixtures/ is a test: extraction must give exactly its expected.json."""

from __future__ import annotations

import pytest

from crawler.fixture_cases import extract_case, find_cases

from .conftest import ROOT

CASES = find_cases(ROOT / "fixtures")


def test_the_required_cases_are_there() -> None:
    names = {case.path.name for case in CASES}
    assert {"listing-2024-08-01", "paper-2509.24002-prettified", "listing-2024-08-01-broken-json",
            "listing-2024-08-01-no-hydration", "listing-2025-03-03"} <= names


@pytest.mark.parametrize("case", CASES, ids=[case.path.name for case in CASES])
def test_fixture_case(case) -> None:
    assert extract_case(case) == case.expected()
