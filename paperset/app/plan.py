"""`paperset run --plan`: the requests a run would make and how long the request budgets make it take,
without fetching anything. Backfills come out in chunks, one per budget window. A run expected to take
longer than CONFIRM_OVER_S under the request budgets goes on only with `--yes`. Beside the plan, the other
checks `paperset run` makes before anything is fetched or created: the settings keep the steps the packager
needs (`check_publishable`), and the latest version's near-dup index suits the run's settings
(`check_parent_index`, with the packager's proofs of its files: `index_proofs`)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from scrapy.settings import Settings

from paperset.app.config import AppConfig
from paperset.crawler.fetch.politeness.config import PolitenessConfig
from paperset.crawler.site.kinds import KINDS
from paperset.crawler.site.listings import Listing

# Least duration under the request budgets above which `paperset run` asks for --yes: ten years of days
# (3,653 API calls) take 40 min under the default budgets, a year with --details 2 h; a year of days
# alone takes none (budgets turned off: no estimate, no question).
CONFIRM_OVER_S = 1_800
# Link calls a paper takes with --links: its /api/papers/ID answer, a collections page, and the filter pages
# where a total exceeds its preview: 2.16, measured over the replica's last 7 days (bench/README.md).
LINK_CALLS_PER_PAPER = 2.16


class PlanTooLarge(ValueError):
    """The run would take longer than CONFIRM_OVER_S under the budgets and --yes was not given."""


def listing_requests(listing: Listing, fetch: str, page_size: int, base_url: str) -> list[tuple[str, str]]:
    """(kind, URL) of the requests one listing is expected to take on the path `fetch` prefers."""
    if fetch in ("auto", "api") and listing.api_path():
        pages = max(1, -(-KINDS[listing.kind].expected // page_size))
        if KINDS[listing.kind].expected % page_size == 0:
            pages += 1  # a full last page asks for one more, which comes back short
        return [("api", f"{base_url}{listing.api_page_path(page_size, p)}") for p in range(pages)]
    return [("page", base_url + listing.page_path())]


def make_plan(listings: list[Listing], settings: Settings, *, fetch: str | None = None,
              base_url: str | None = None, details: bool = False, sweep: int = 0,
              all_papers: bool = False, links: bool = False) -> dict[str, Any]:
    """The plan: every expected request in order, counts per kind (with `details`, one API call per
    expected paper; `sweep` API calls of the refresh sweep; with `all_papers`, the pages of every indexed
    paper, PAPERSET_ALL_PAPERS_EXPECTED of them; with `links`, link_calls' estimate), chunks per window,
    least duration."""
    config, app = PolitenessConfig.from_settings(settings), AppConfig.from_settings(settings)
    fetch = fetch or app.fetch
    base = (base_url or app.base_url).rstrip("/")
    size = app.api_page_size
    requests: list[dict[str, str]] = []
    for listing in listings:
        for kind, url in listing_requests(listing, fetch, size, base):
            requests.append({"kind": kind, "url": url, "listing": f"{listing.kind} {listing.key}"})
    every = all_papers_requests(app.all_papers_expected, size, base) if all_papers else []
    requests += every
    counts = {kind: sum(1 for r in requests if r["kind"] == kind) for kind in ("api", "page")}
    detail_calls = sum(KINDS[listing.kind].expected for listing in listings) if details else 0
    counts["api"] += detail_calls + sweep
    papers = sum(KINDS[listing.kind].expected for listing in listings) + sweep + (
        app.all_papers_expected if all_papers else 0)
    linked = link_calls(papers, app) if links else 0
    # The paper answers details and the sweep ask already serve the links too (paperset/crawler/spiders/hf_papers.py).
    shared = detail_calls + sweep if fetch in ("auto", "api") and not app.details_from_page \
        else 0
    counts["api"] += max(0, linked - shared)
    return {"requests": requests, "counts": counts, "budgets": dict(config.budgets), "window_s": config.window_s,
            "details": detail_calls, "sweep": sweep, "all_papers": len(every), "links": linked,
            "links_papers": papers if links else 0, "chunks": chunks(requests, config),
            "least_duration_s": config.duration_s(counts), "confirm_over_s": CONFIRM_OVER_S,
            "note": "API pages are estimated from the site's usual listing sizes; --details adds one API call "
                    "per paper; a 429 adds the wait it asks for"}


def link_calls(papers: int, app_config: AppConfig) -> int:
    """The link calls of `papers` papers: LINK_CALLS_PER_PAPER each, at most PAPERSET_LINKS_MAX_CALLS."""
    cap = app_config.links_max_calls
    calls = math.ceil(papers * LINK_CALLS_PER_PAPER)
    return min(calls, cap) if cap else calls


def all_papers_requests(expected: int, page_size: int, base_url: str) -> list[dict[str, str]]:
    """The expected pages of `/api/papers` (the cursors are the site's: not known before)."""
    pages = max(1, -(-expected // page_size))
    return [{"kind": "api", "url": f"{base_url}/api/papers?{'cursor=…&' if n else ''}limit={page_size}",
             "listing": "all papers"} for n in range(pages)]


def chunks(requests: list[dict[str, str]], config: PolitenessConfig) -> list[dict[str, Any]]:
    """The requests cut where a kind's budget for one window runs out: each chunk starts a window later."""
    out: list[dict[str, Any]] = []
    used: dict[str, int] = {}
    current: list[dict[str, str]] = []
    for request in requests:
        kind = request["kind"]
        budget = config.budgets.get(kind, 0)
        if budget and used.get(kind, 0) >= budget:
            out.append(_chunk(current, len(out), config.window_s))
            current, used = [], {}
        current.append(request)
        used[kind] = used.get(kind, 0) + 1
    if current:
        out.append(_chunk(current, len(out), config.window_s))
    return out


def _chunk(requests: list[dict[str, str]], index: int, window_s: float) -> dict[str, Any]:
    return {"starts_after_s": index * window_s, "first": requests[0]["listing"], "last": requests[-1]["listing"],
            "api": sum(1 for r in requests if r["kind"] == "api"),
            "page": sum(1 for r in requests if r["kind"] == "page")}


def format_plan(plan: dict[str, Any], *, show: int = 20) -> str:
    """The plan for a person: the first requests, the totals, the chunks and the least duration."""
    lines = [f"{r['kind']:<5} {r['url']}" for r in plan["requests"][:show]]
    if len(plan["requests"]) > show:
        lines.append(f"... and {len(plan['requests']) - show} more")
    budgets = ", ".join(f"{k} {v or 'unlimited'}" for k, v in plan["budgets"].items())
    lines += [f"requests        {plan['counts']['api']} API calls, {plan['counts']['page']} page loads (expected)",
              f"budgets         {budgets} per {plan['window_s']:.0f} s"]
    for n, chunk in enumerate(plan["chunks"], 1):
        lines.append(f"chunk {n:<9} +{chunk['starts_after_s']:.0f} s: {chunk['first']} .. {chunk['last']} "
                     f"({chunk['api']} API, {chunk['page']} pages)")
    if plan["details"]:
        lines.append(f"details         about {plan['details']} more API calls (one per expected paper)")
    if plan.get("all_papers"):
        lines.append(f"all papers      about {plan['all_papers']} API calls: PAPERSET_ALL_PAPERS_EXPECTED papers "
                     "(an estimate) at PAPERSET_API_PAGE_SIZE a page")
    if plan.get("links"):
        lines.append(f"links           about {plan['links']} link calls: {LINK_CALLS_PER_PAPER} a paper over "
                     f"{plan['links_papers']} papers, at most PAPERSET_LINKS_MAX_CALLS (paper answers shared "
                     "with --details and the sweep)")
    if plan.get("sweep_period"):
        lines.append(f"sweep           {plan['sweep']} API calls: {plan['sweep_period']}")
    lines.append(f"takes at least  {plan['least_duration_s']:.0f} s under the budgets "
                 f"({human_duration(plan['least_duration_s'])})")
    if too_large(plan):
        lines.append(f"needs --yes     {too_large(plan)}")
    lines.append(f"note            {plan['note']}")
    return "\n".join(lines)


def human_duration(seconds: float) -> str:
    """`40 min`, `20 h 5 min`, `3 d 4 h`: a duration a person reads at a glance."""
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def total_requests(plan: dict[str, Any]) -> int:
    return int(sum(plan["counts"].values()))


def too_large(plan: dict[str, Any]) -> str | None:
    """Why the run needs --yes (its size and least duration), or None."""
    if plan["least_duration_s"] <= CONFIRM_OVER_S:
        return None
    return (f"this run would make about {total_requests(plan)} requests and take at least "
            f"{human_duration(plan['least_duration_s'])} under the request budgets; a run of more than "
            f"{human_duration(CONFIRM_OVER_S)} goes on only with --yes (paperset run --plan shows its requests)")


def confirm(plan: dict[str, Any], *, yes: bool) -> None:
    """Raise PlanTooLarge (exit 2) for a run longer than CONFIRM_OVER_S without --yes."""
    reason = too_large(plan)
    if reason and not yes:
        raise PlanTooLarge(reason)


def check_publishable(settings: Any) -> None:
    """A run's settings keep the steps the packager needs (ValueError naming those turned off, before
    anything is fetched: a crawl that could never be published is not started): the packager reads the fields
    the normalize step writes (times, ids) and groups entries by the keys the dedupe step sets."""
    from paperset.crawler.pipelines.config import PipelineConfig

    steps = PipelineConfig.from_settings(settings)
    needs = {"PAPERSET_NORMALIZE_ENABLED": steps.normalize, "PAPERSET_DEDUPE_ENABLED": steps.dedupe}
    off = [name for name, on in needs.items() if not on]
    if off:
        raise ValueError(f"{' and '.join(f'{name}=False' for name in off)}: a run publishes a snapshot, and the "
                         "packager needs every entry normalized and keyed by those steps; to see entries "
                         "without them, use paperset crawl --out")


def check_parent_index(dataset: Path, settings: Any) -> None:
    """Before anything is made: the latest version's near-dup index (the one a new run starts from) was
    built with the run's PAPERSET_DEDUPE_* settings (SettingError naming them) and can be read."""
    from paperset.app.config import AppConfig
    from paperset.crawler.dedup.config import DedupeConfig
    from paperset.crawler.dedup.index import check_store
    from paperset.packager.build import latest

    parent = latest(dataset) if dataset.is_dir() else None
    if parent is not None and AppConfig.from_settings(settings).dedupe:
        check_store(DedupeConfig.from_settings(settings), str(dataset / parent / "dedupe-index"),
                    index_proofs(dataset / parent))


def index_proofs(version: Path) -> dict[str, Any]:
    """The packager's stat proofs of a version's near-dup index files (name inside the index -> proof): a
    segment file whose stat still equals its proof was hashed into the verified manifest, so its bytes
    need no second check (paperset/crawler/dedup/disk.py)."""
    from paperset.packager.proofs import load_proofs

    prefix = "dedupe-index/"
    return {name[len(prefix):]: proof for name, proof in load_proofs(version).items() if name.startswith(prefix)}
