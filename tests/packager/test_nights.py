"""A dozen nights of `paperset run` on the replica, all on one day, the site moving between them: version
names sort as they were made (sorted(), a DuckDB glob), the parent plus a version's `changes` is that
version row for row, the flags come from the listings' own dates, every day-listed paper has its date."""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from datetime import UTC, date, datetime
from itertools import pairwise
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from paperset.crawler.replica.server import ReplicaServer
from paperset.packager.tables import CHANGES, PAPERS
from tests.conftest import ROOT, run_paperset

pytestmark = pytest.mark.slow  # runs `paperset` end to end, a dozen times (docs/testing.md)

NIGHTS = 12
HORIZON = date(2025, 3, 1)  # the recrawl window reaches back to here: March days are recent, February not
UNDATED = "2509.13305"
LISTINGS = ("--range", "2025-03-03:2025-03-05", "--month", "2025-02", "--search", "WebSailor")


def night(server: ReplicaServer, root: Path, recrawl_days: int) -> dict:
    result = run_paperset("run", "--base-url", server.base_url, *LISTINGS, "--out", str(root), "--name", "ds",
                          "--json", "--recrawl-days", str(recrawl_days), "-s", "AUTOTHROTTLE_ENABLED=False")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def move_site(server: ReplicaServer, n: int) -> None:
    """Night n's change: a counter moves on a March day; every third night a paper joins 2025-03-04."""
    day = server.site.listings["day", f"2025-03-0{3 + n % 3}"]
    day[n % len(day)]["paper"]["upvotes"] += 1 + n
    if n % 3 == 0:
        listing = server.site.listings["day", "2025-03-04"]
        extra = copy.deepcopy(server.site.listings["day", "2025-02-10"][n // 3])
        extra["_rank"] = len(listing)
        listing.append(extra)


def rows(version: Path, table: str) -> list[dict]:
    schema = {"papers": PAPERS, "changes": CHANGES}[table]
    return pq.read_table(sorted((version / table).glob("*.parquet")), schema=schema).to_pylist()


def apply(parent: list[dict], changes: list[dict]) -> list[dict]:
    """The parent's papers with a version's changes applied: what a consumer holding the parent does."""
    papers = {r["paper_key"]: r for r in parent}
    for change in changes:
        papers.pop(change["paper_key"], None)
        if change["change"] != "removed":
            papers[change["paper_key"]] = {n: change[n] for n in PAPERS.names}
    return [papers[k] for k in sorted(papers)]


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    root = tmp_path_factory.mktemp("nights")
    recrawl_days = (datetime.now(UTC).date() - HORIZON).days
    made = []
    with ReplicaServer() as server:
        # One search hit the site never dated: seen on search only, with no listing date at all.
        for row in server.site.search("WebSailor"):
            if row["paper"]["id"] == UNDATED:
                row.pop("submittedOnDailyAt", None)
                row["paper"].pop("submittedOnDailyAt", None)
        for n in range(NIGHTS):
            if n:
                move_site(server, n)
            made.append(night(server, root, recrawl_days))
    return root / "ds", made


def test_a_dozen_versions_in_a_day_sort_in_the_order_they_were_made(nights) -> None:
    dataset, made = nights
    names = [m["version"] for m in made]
    assert all(m["changed"] for m in made) and len(set(names)) == NIGHTS
    day = names[0]
    assert names == [day] + [f"{day}.{n:02d}" for n in range(2, NIGHTS + 1)]
    assert sorted(names) == names == sorted(p.name for p in dataset.iterdir() if p.name[0].isdigit())
    found = duckdb.sql(f"SELECT DISTINCT regexp_extract(filename, '/([0-9.]+)/papers/', 1) AS v "
                       f"FROM read_parquet('{dataset}/*/papers/*.parquet', filename = true) ORDER BY v").fetchall()
    assert [v for (v,) in found] == names


def test_observations_over_every_version_count_each_once(nights) -> None:
    dataset, made = nights
    glob = f"{dataset}/*/observations/*.parquet"
    once = duckdb.sql(f"SELECT count(*) FROM read_parquet('{glob}', filename = true) "
                      "WHERE version = regexp_extract(filename, '/([0-9.]+)/observations/', 1)").fetchall()[0][0]
    everything = duckdb.sql(f"SELECT count(*) FROM read_parquet('{glob}')").fetchall()[0][0]
    assert once == made[-1]["observations"] < everything
    per_version = duckdb.sql(f"SELECT version, count(*) FROM '{dataset}/{made[-1]['version']}/observations/*.parquet'"
                             " GROUP BY version ORDER BY version").fetchall()
    assert [v for v, _ in per_version] == [m["version"] for m in made]
    assert [c for _, c in per_version] == [made[0]["observations"]] + [m["new_observations"] for m in made[1:]]


def test_the_parent_plus_changes_is_the_version_row_for_row(nights) -> None:
    dataset, made = nights
    for parent, child in pairwise(made):
        before = rows(dataset / parent["version"], "papers")
        changes = rows(dataset / child["version"], "changes")
        assert apply(before, changes) == rows(dataset / child["version"], "papers")
        assert len(changes) == child["added"] + child["changed_papers"] + child["removed"] > 0
        old = {r["paper_key"]: r for r in before}
        for change in changes:
            if change["change"] == "changed":
                was = json.loads(change["before"])
                assert sorted(was) == sorted(change["fields"])
                if "upvotes" in was:
                    assert was["upvotes"] == old[change["paper_key"]]["upvotes"] != change["upvotes"]


def test_flags_and_dates_come_from_the_listings_own_dates(nights) -> None:
    dataset, made = nights
    papers = rows(dataset / made[-1]["version"], "papers")
    by_population: dict[str, int] = {}
    for paper in papers:
        by_population[paper["population"]] = by_population.get(paper["population"], 0) + 1
        kinds = {item["kind"] for item in paper["listings"]}
        days = [item["date"] for item in paper["listings"] if item["kind"] == "day"]
        months = [item["date"] for item in paper["listings"] if item["kind"] == "month"]
        assert all(d == date(2025, 2, 28) for d in months)
        if days:  # every day-listed paper has its Daily Papers date, the day listing's
            assert paper["daily_date"] == min(days) and paper["provisional"] is True
        elif "month" in kinds:  # a month long past is not provisional
            assert paper["provisional"] is False and paper["population"] == "daily"
        elif paper["daily_date"] is None:  # no listing date known: unknown, never the crawl time
            assert paper["provisional"] is None and kinds <= {"search"}
            assert paper["population"] == "search_only"
        assert paper["keyless"] == (paper["paper_id"] is None) == paper["paper_key"].startswith("ck:")
    assert by_population["search_only"] == 1 and by_population["daily"] > 200
    dated_search = next(p for p in papers if p["paper_key"] == "2507.02592")  # dated by submittedOnDailyAt
    assert (dated_search["daily_date"], dated_search["provisional"]) == (date(2025, 7, 4), True)
    assert sum(by_population.values()) == made[-1]["papers"]


def test_the_card_tells_the_truth(nights) -> None:
    dataset, made = nights
    last = made[-1]
    card = (dataset / last["version"] / "README.md").read_text()
    papers = rows(dataset / last["version"], "papers")
    # the lineage: every earlier version with a link to its card, each with its run on the replica
    for parent in made[:-1]:
        assert f"| [`{parent['version']}`](../{parent['version']}/README.md) | `" in card
    base = json.loads((dataset / last["version"] / "manifest.json").read_text())["runs"][0]["base_url"]
    assert base.startswith("http://127.0.0.1:") and f"| `PAPERSET_BASE_URL` | {base} |" in card
    assert "https://huggingface.co'" not in card and "PAPERSET_BASE_URL: " not in card
    # fill rates and distinct counts read from the data
    total = len(papers)
    for column in ("organization", "github_stars", "daily_date", "provisional"):
        filled = sum(1 for p in papers if p[column] is not None)
        distinct = len({p[column] for p in papers if p[column] is not None})
        assert f"| `{column}` | " in card
        line = next(ln for ln in card.splitlines() if ln.startswith(f"| `{column}` | "))
        assert f"| {filled} ({100 * filled / total:.1f}%) | {distinct} |" in line
    # the per-day table's total plus the papers it leaves out (named) is the header's count
    day_total = int(re.search(r"\| \*\*total\*\* \| \*\*(\d+)\*\* \|", card).group(1))
    assert day_total == sum(1 for p in papers if p["daily_date"] is not None)
    assert f"{last['papers']} papers, {last['observations']} observations." in card
    flat = " ".join(card.split())
    undated_daily = sum(1 for p in papers if p["daily_date"] is None and p["population"] == "daily")
    assert (f"The other {total - day_total} of the {total} have no `daily_date`: {undated_daily} daily papers seen "
            "only on a week, month or trending listing") in flat and "; 1 search_only papers" in flat
    assert re.search(rf"\| \*\*all\*\* \| \*\*{total}\*\* \|", card)
    flags = [p["provisional"] for p in papers]
    assert (f"True for {flags.count(True)} papers (their counters will change), false for {flags.count(False)}, "
            f"null for {flags.count(None)}.") in flat
    assert "OWNER" not in card.split("## Citation")[1] and "@misc{hf_daily_papers," in card
    assert "arXiv's non-exclusive distribution licence" in card and 'dtype_backend="pyarrow"' in card


def test_diff_takes_version_names_of_a_dataset(nights, tmp_path) -> None:
    dataset, made = nights
    first, last = made[0]["version"], made[-1]["version"]
    by_folder = run_paperset("diff", str(dataset / first), str(dataset / last), "--json")
    by_name = run_paperset("diff", "--dataset", str(dataset), first, last, "--json")
    mixed = run_paperset("diff", str(dataset / first), last, "--json")  # a name of the folder's dataset
    assert by_folder.returncode == by_name.returncode == mixed.returncode == 0, by_name.stderr
    assert json.loads(by_name.stdout) == json.loads(by_folder.stdout) == json.loads(mixed.stdout)
    assert json.loads(by_name.stdout)["from"] == first and json.loads(by_name.stdout)["to"] == last
    lost = run_paperset("diff", first, last)  # neither a folder nor a name of the current folder's dataset
    assert lost.returncode == 2 and lost.stderr.startswith(f"paperset diff: {first} is neither a version folder")
    wrong = run_paperset("diff", "--dataset", str(dataset), first, "2001.01.01")
    assert wrong.returncode == 2 and f"(versions: ..., {', '.join(m['version'] for m in made[-5:])})" in wrong.stderr
    help_text = " ".join(run_paperset("diff", "--help").stdout.split())
    assert "A the older version: a folder or a version name" in help_text


def doc_queries() -> list[str]:
    """The sql blocks of docs/dataset.md, in order."""
    return re.findall(r"```sql\n(.*?)```", (ROOT / "docs" / "dataset.md").read_text(encoding="utf-8"), re.S)


def test_the_seven_questions_of_docs_dataset_add_up(nights, monkeypatch) -> None:
    dataset, made = nights
    last, middle = made[-1]["version"], made[3]["version"]
    monkeypatch.chdir(dataset / last)
    papers = rows(dataset / last, "papers")
    top, trajectory, people, lag, code, changed, as_of = doc_queries()
    moved = next(p for p in papers if p["paper_id"] and p["upvotes"] and any(
        c["paper_key"] == p["paper_key"] and "upvotes" in c["fields"] for c in rows(dataset / last, "changes")))
    dated = [p for p in papers if p["daily_date"] is not None and not p["keyless"]]
    for month, paper_id, _, upvotes in duckdb.sql(top).fetchall():
        in_month = [p for p in dated if p["daily_date"].strftime("%Y-%m") == month]
        assert paper_id in {p["paper_id"] for p in in_month} and upvotes <= max(p["upvotes"] for p in in_month)
    assert {m for m, *_ in duckdb.sql(top).fetchall()} == {p["daily_date"].strftime("%Y-%m") for p in dated}
    points = duckdb.sql(trajectory.replace("2503.01785", moved["paper_id"])).fetchall()
    assert len(points) >= 2 and points[-1][1] == moved["upvotes"] and points == sorted(points)
    authors = Counter(a for p in papers if not p["keyless"] for a in p["authors"] or [])
    found = duckdb.sql(people).fetchall()
    assert [(n, c) for k, n, c in found if k == "author"] == sorted(authors.items(), key=lambda i: (-i[1], i[0]))[:10]
    days = sorted((p["daily_date"] - p["published_at"].date()).days for p in papers
                  if p["daily_date"] and p["published_at"])
    assert duckdb.sql(lag).fetchall()[0][0] == len(days) and duckdb.sql(lag).fetchall()[0][2] == days[-1]
    months = duckdb.sql(code).fetchall()
    assert sum(m[1] for m in months) == len(dated)
    assert sum(m[2] for m in months) == sum(1 for p in dated if p["github_full_name"])
    parent = {p["paper_key"]: p for p in rows(dataset / made[-2]["version"], "papers")}
    now = {p["paper_key"]: p for p in papers}
    moves = duckdb.sql(changed).fetchall()
    assert moves and all(parent[k]["upvotes"] == b and now[k]["upvotes"] == a for k, b, a in moves)
    count, keys = duckdb.sql(as_of.replace("2026.12.06.03", middle)).fetchall()[0]
    then = pq.read_table(dataset / middle / "observations")
    assert (count, keys) == (then.num_rows, len(set(then.column("paper_key").to_pylist())))
