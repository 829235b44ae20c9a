"""A run expected to take longer than CONFIRM_OVER_S under the budgets (ten years of days) says how long
it would take and goes on only with --yes; --plan says so too. Nothing is fetched or created."""

from __future__ import annotations

import pytest
from scrapy.utils.project import get_project_settings

from paperset.app.plan import CONFIRM_OVER_S, PlanTooLarge, confirm, human_duration, make_plan
from paperset.crawler.site.listings import plan_listings
from tests.conftest import last_json, run_paperset

TEN_YEARS = "2015-01-01:2024-12-31"
REFUSAL = ("this run would make about 3653 requests and take at least 40 min under the request budgets; "
           "a run of more than 30 min goes on only with --yes (paperset run --plan shows its requests)")


def test_ten_years_need_yes_and_nothing_is_created(tmp_path) -> None:
    result = run_paperset("run", "--range", TEN_YEARS, "--base-url", "http://127.0.0.1:9", "--out", str(tmp_path / "r"))
    assert result.returncode == 2
    assert result.stderr == f"paperset run: {REFUSAL}\n"
    assert not (tmp_path / "r").exists()


def test_the_plan_says_how_long_and_that_it_needs_yes(tmp_path) -> None:
    result = run_paperset("run", "--range", TEN_YEARS, "--out", str(tmp_path), "--plan", "--json")
    assert result.returncode == 0
    assert "takes at least  2400 s under the budgets (40 min)" in result.stdout
    assert f"needs --yes     {REFUSAL}" in result.stdout
    plan = last_json(result.stdout)
    assert (plan["counts"], plan["least_duration_s"], plan["confirm_over_s"]) == ({"api": 3653, "page": 0}, 2400.0,
                                                                                   CONFIRM_OVER_S)


def test_details_count_one_call_per_expected_paper_and_yes_goes_on() -> None:
    settings = get_project_settings()
    month = make_plan(plan_listings(month=["2025-01"]), settings, details=True)
    assert (month["details"], month["counts"]["api"]) == (105, 108)
    confirm(month, yes=False)
    year = make_plan(plan_listings(range=["2024-01-01:2024-12-31"]), settings, details=True)
    assert year["counts"]["api"] == 366 + 366 * 30
    with pytest.raises(PlanTooLarge, match=r"^this run would make about 11346 requests and take at least 2 h 5 min "):
        confirm(year, yes=False)
    confirm(year, yes=True)
    settings.set("PAPERSET_BUDGET_API", 0)  # budgets off: no estimate, no question
    confirm(make_plan(plan_listings(range=["2015-01-01:2024-12-31"]), settings, details=True), yes=False)
    assert [human_duration(s) for s in (0, 2400, 7500, 75_600, 190_800)] == [
        "0 min", "40 min", "2 h 5 min", "21 h", "2 d 5 h"]


def test_links_count_their_calls_per_paper_capped_and_shared_with_details_and_the_sweep() -> None:
    settings = get_project_settings()
    month = plan_listings(month=["2025-01"])  # 3 API pages, 105 papers expected
    links = make_plan(month, settings, links=True)
    # ceil(105 * 2.16): each paper's answer, its collections page, filter pages past its previews.
    assert (links["links"], links["links_papers"], links["counts"]["api"]) == (227, 105, 3 + 227)
    both = make_plan(month, settings, links=True, details=True)  # one answer a paper serves both
    assert (both["details"], both["links"], both["counts"]["api"]) == (105, 227, 3 + 227)
    swept = make_plan(month, settings, links=True, sweep=8)  # the swept papers' links too (113 papers)
    assert (swept["links"], swept["counts"]["api"]) == (245, 3 + 245)
    settings.set("PAPERSET_LINKS_MAX_CALLS", 100)
    assert make_plan(month, settings, links=True)["links"] == 100
    settings.set("PAPERSET_LINKS_MAX_CALLS", 0)  # no cap: a quarter's links take more than 30 min
    quarter = make_plan(plan_listings(range=["2025-01-01:2025-03-31"]), settings, links=True)
    assert quarter["counts"]["api"] == 90 + 5832
    with pytest.raises(PlanTooLarge, match=r"^this run would make about 5922 requests and take at least 1 h 5 min "):
        confirm(quarter, yes=False)


def test_links_plan_prints_the_link_calls_and_a_run_confirms_them(tmp_path) -> None:
    result = run_paperset("run", "--day", "2025-02-03", "--links", "--out", str(tmp_path), "--plan", "--json")
    assert result.returncode == 0, result.stderr
    assert ("links           about 65 link calls: 2.16 a paper over 30 papers, at most PAPERSET_LINKS_MAX_CALLS "
            "(paper answers shared with --details and the sweep)") in result.stdout
    assert last_json(result.stdout)["counts"] == {"api": 1 + 65, "page": 0}
    run = run_paperset("run", "--range", "2025-01-01:2025-03-31", "--links", "-s", "PAPERSET_LINKS_MAX_CALLS=0",
                       "--base-url", "http://127.0.0.1:9", "--out", str(tmp_path / "r"))
    assert run.returncode == 2
    assert run.stderr.startswith("paperset run: this run would make about 5922 requests and take at least 1 h 5 min")
    assert not (tmp_path / "r").exists()
