"""The papers' derived columns, each from one rule written here once: the date a listing is dated by, the
Daily Papers date, `provisional`, the population, the cluster relation and the normalized GitHub
repository. docs/dataset.md states the rules; the card's sentences quote them (RULES)."""

from __future__ import annotations

import calendar
from collections.abc import Collection
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc

POPULATIONS = ("daily", "search_only", "indexed_only")
RELATIONS = ("related", "possible_copy")
# The rules in words, for the schema descriptions and the card.
RULES = {
    "listing_date": "the date a listing is dated by: a day listing its day, a week or month listing its last "
                    "day; null for trending, search and paper listings",
    "daily_date": "the day the paper was on Daily Papers: its earliest day listing; without one, the UTC date "
                  "of the site's submittedOnDailyAt; null when neither is known (a day listing wins)",
    "provisional": "true when the paper's latest dated listing (or, without one, its daily_date) is within "
                   "the recrawl window before the packaging day, false when older, null when the paper has "
                   "neither (seen only on search, trending or paper pages, without a submittedOnDailyAt)",
    # The schema's words: which listings are Daily Papers' is the crawler's registry (Kind.daily), handed
    # to `package` (`daily_kinds`) and named by the card and the manifest (`population_rule`).
    "population": "daily (seen on a listing of Daily Papers itself, the manifest's daily_kinds, or with a "
                  "submittedOnDailyAt), search_only (otherwise, seen on a search listing), indexed_only "
                  "(otherwise: a paper page of the index, never on Daily Papers)",
    "cluster_relation": "null outside a near-duplicate cluster; related: the row has its own arXiv id, so it "
                        "is a distinct paper similar to the others (never drop it as a copy); possible_copy: "
                        "a keyless (ck:) row whose text is near another member's, likely the same paper seen "
                        "without its id",
}


def population_rule(daily_kinds: Collection[str]) -> str:
    """RULES["population"] with the daily kinds named (the card's sentence): from the kinds `package` is given."""
    names = list(daily_kinds)
    seen = "with a submittedOnDailyAt"
    if names:
        spoken = f"{', '.join(names[:-1])} or {names[-1]}" if len(names) > 1 else names[0]
        seen = f"seen on a {spoken} listing, or {seen}"
    return (f"daily ({seen}), search_only (otherwise, seen on a search listing), indexed_only (otherwise: a "
            "paper page of the index, never on Daily Papers)")


def rules(daily_kinds: Collection[str]) -> dict[str, str]:
    """RULES as the card quotes them: the population's with the daily kinds named."""
    return {**RULES, "population": population_rule(daily_kinds)}


def listing_day(kind: str | None, key: str | None) -> date | None:
    """The date a listing is dated by (RULES["listing_date"]); None when it has none or the key is bad."""
    try:
        if kind == "day":
            return date.fromisoformat(key or "")
        if kind == "week":
            year, week = (key or "").split("-W")
            return date.fromisocalendar(int(year), int(week), 7)
        if kind == "month":
            year, month = (int(p) for p in (key or "").split("-"))
            return date(year, month, calendar.monthrange(year, month)[1])
    except ValueError:
        return None
    return None


def listing_dates(kinds: pa.Array, keys: pa.Array) -> pa.Array:
    """`listing_day` of each (kind, key), computed once per distinct listing (few: days, weeks, months)."""
    pairs = pc.binary_join_element_wise(pc.fill_null(kinds, ""), pc.fill_null(keys, ""), "\x00")
    distinct = pc.unique(pairs)
    values = [listing_day(*p.split("\x00", 1)) if p is not None else None for p in distinct.to_pylist()]
    return pc.take(pa.array(values, pa.date32()), pc.index_in(pairs, value_set=distinct))


def _per_paper(listings: pa.ChunkedArray | pa.Array, rows: int, value: pa.Array, keep: pa.Array,
               how: str) -> pa.Array:
    """Per paper (row of `listings`): min or max (`how`) of `value` over its listings where `keep`."""
    listings = listings.combine_chunks() if isinstance(listings, pa.ChunkedArray) else listings
    parents = pc.list_parent_indices(listings)
    table = pa.table({"row": parents.filter(keep), "v": value.filter(keep)})
    grouped = table.group_by("row", use_threads=False).aggregate([("v", how)])
    where = pc.index_in(pa.array(range(rows), pa.int64()), value_set=grouped.column("row").cast(pa.int64()))
    return pc.take(grouped.column(f"v_{how}"), where)


def _flat(papers: pa.Table) -> tuple[pa.Array, pa.Array, pa.Array]:
    listings = papers.column("listings").combine_chunks()
    flat = pc.list_flatten(listings)
    return listings, pc.struct_field(flat, "kind"), pc.struct_field(flat, "date")


def daily_date(papers: pa.Table) -> pa.Array:
    """RULES["daily_date"]: the earliest day listing, else the date of submitted_on_daily_at."""
    listings, kinds, dates = _flat(papers)
    day = _per_paper(listings, papers.num_rows, dates, pc.fill_null(pc.equal(kinds, "day"), False), "min")
    submitted = pc.cast(papers.column("submitted_on_daily_at"), pa.date32())
    return pc.coalesce(day, submitted)


def provisional(papers: pa.Table, horizon: date) -> pa.Array:
    """RULES["provisional"], from the listings' dates and daily_date (a column of `papers` already)."""
    listings, _, dates = _flat(papers)
    latest = _per_paper(listings, papers.num_rows, dates, pc.is_valid(dates), "max")
    dated = pc.coalesce(latest, papers.column("daily_date"))
    return pc.greater(dated, pa.scalar(horizon, pa.date32()))


def population(papers: pa.Table, daily_kinds: Collection[str]) -> pa.Array:
    """RULES["population"]: `daily_kinds` the listing kinds of Daily Papers itself (the crawler's Kind.daily)."""
    listings, kinds, _ = _flat(papers)
    rows = papers.num_rows
    flag = pc.cast(pc.is_in(kinds, value_set=pa.array(list(daily_kinds), pa.string())), pa.int8())
    daily = pc.fill_null(pc.equal(_per_paper(listings, rows, flag, pc.is_valid(kinds), "max"), 1), False)
    daily = pc.or_(daily, pc.is_valid(papers.column("submitted_on_daily_at")))
    seen = pc.cast(pc.equal(kinds, "search"), pa.int8())
    search = pc.fill_null(pc.equal(_per_paper(listings, rows, seen, pc.is_valid(kinds), "max"), 1), False)
    return pc.if_else(daily, "daily", pc.if_else(search, "search_only", "indexed_only"))


def cluster_relation(papers: pa.Table) -> pa.Array:
    """RULES["cluster_relation"]."""
    relation = pc.if_else(pc.is_valid(papers.column("paper_id")), "related", "possible_copy")
    return pc.if_else(pc.is_valid(papers.column("cluster_id")), relation, pa.scalar(None, pa.string()))


GITHUB = r"^https?://(?:www\.)?github\.com/(?P<owner>[A-Za-z0-9_.-]+)/(?P<name>[A-Za-z0-9_.-]+)"


def github_name(urls: pa.Array | pa.ChunkedArray) -> pa.Array:
    """`owner/name` of a GitHub repository URL, lower case, without `.git`, a trailing `/` or a `/tree/...`
    path; null for anything else (a user page, another host)."""
    urls = urls.combine_chunks() if isinstance(urls, pa.ChunkedArray) else urls
    parts = pc.extract_regex(pc.fill_null(urls, ""), GITHUB)
    owner = pc.utf8_lower(pc.struct_field(parts, "owner"))
    name = pc.replace_substring_regex(pc.utf8_lower(pc.struct_field(parts, "name")), r"\.git$", "")
    joined = pc.binary_join_element_wise(owner, name, "/")
    matched = pc.and_(pc.is_valid(parts), pc.not_equal(name, ""))
    return pc.if_else(pc.fill_null(matched, False), joined, pa.scalar(None, pa.string()))
