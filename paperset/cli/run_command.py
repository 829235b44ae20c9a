"""`paperset run`: its arguments, the checks before anything runs, and the outcome printed (one JSON line
with --json, paperset/app/exits.py)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from paperset.app.exits import BadInput, Exit, checking, redis_named
from paperset.app.sweep import apply_sweep, describe_period
from paperset.cli.args import check_base_url_arg, crawl_job, redis_url
from paperset.crawler.extensions.summary import format_summary
from paperset.crawler.site.kinds import nothing_to_crawl
from paperset.crawler.site.listings import asked_from, plan_listings


def print_run(outcome: dict[str, Any], as_json: bool) -> int:
    """The human summary of a run (on stderr with --json), then with --json the outcome as the one JSON
    line on stdout (paperset/app/exits.py: the same keys for every outcome). The exit code."""
    human = sys.stderr if as_json else sys.stdout
    if "crawl" in outcome:
        print(format_summary(outcome["crawl"]), file=human)
    kind = outcome["outcome"]
    if kind in ("published", "unchanged") and outcome.get("reasons"):
        for reason in outcome["reasons"]:
            print(f"warning         {reason}", file=human)
    if kind == "published":
        print(f"published       {outcome['version']} ({outcome['papers']} papers, {outcome['observations']} "
              f"observations; {outcome['added']} added, {outcome['changed_papers']} changed) "
              f"{'verified' if outcome['verified'] else 'NOT VERIFIED'}", file=human)
        print(f"snapshot        {outcome['path']}", file=human)
        print(f"load it         datasets.load_dataset('parquet', data_files='{outcome['path']}/papers/*.parquet')",
              file=human)
    elif kind == "unchanged":
        print(f"published       nothing: no change since {outcome['parent']}", file=human)
    else:
        print(f"paperset run: {kind}: {outcome.get('error') or '; '.join(outcome.get('reasons') or [])}",
              file=sys.stderr)
    if as_json:
        print(json.dumps(outcome, sort_keys=True, default=str), flush=True)
    return int(outcome["exit_code"])


def cmd_run(args: argparse.Namespace) -> int:
    """Crawl, clean, package, verify: the command a scheduler runs. Its failures are reported by
    paperset/cli/__init__.py's `main` from the table of paperset/app/exits.py."""
    from paperset.app.crawl import crawl_settings
    from paperset.packager.build import dataset_path
    from paperset.packager.lock import dataset_lock

    with checking():
        check_base_url_arg(args)
        apply_from_archive(args)
        settings = crawl_settings(crawl_job(args, None))  # the one build of the run's settings, checked first
        apply_recent(args, settings)
        listings = plan_listings(asked_from(args))  # with the days --recent added
        if args.links and redis_url(args):
            raise BadInput("--links is not available in a distributed run (--redis) yet: nothing would keep "
                           "the links its workers fetch")
        sweep = apply_sweep(args, settings, {(listing.kind, listing.key) for listing in listings})
        if not listings and not args.all_papers:
            raise BadInput(nothing_to_crawl())
        if args.plan:
            return print_plan(args, listings, settings, sweep)
        from paperset.app.contact import warn_without_contact
        from paperset.app.plan import check_parent_index, check_publishable, confirm, make_plan
        from paperset.app.process import skip_pandas_probe

        skip_pandas_probe()
        check_publishable(settings)
        confirm(make_plan(listings, settings, fetch=args.fetch, base_url=args.base_url, details=args.details,
                          sweep=len(args.sweep_ids), all_papers=args.all_papers, links=args.links),
                yes=args.yes or bool(args.from_archive))  # a replay owes the site no time
        if args.workers is not None and args.workers < 0:
            raise BadInput(f"--workers must be 0 or more, not {args.workers}")
        if args.workers is not None and not redis_url(args):
            raise BadInput("--workers needs --redis URL (or PAPERSET_REDIS_URL)")
        dataset = dataset_path(args.out, args.name)
        check_parent_index(dataset, settings)
        warn_without_contact("run", settings, args.base_url)
    from paperset.app.run import crawl_and_package

    job = crawl_job(args, None)  # with the days --recent added
    with redis_named(redis_url(args)), dataset_lock(dataset, wait=args.wait):
        outcome = crawl_and_package(job, args.out, args.name, recrawl_days=args.recrawl_days, force=args.force,
                                    resume=not args.no_resume, redis=redis_url(args), workers=args.workers or 0,
                                    allow_partial=args.allow_partial, settings=settings)
    return print_run(outcome, args.json)


def apply_recent(args: argparse.Namespace, settings: Any) -> None:
    """Resolve `--recrawl-days` (default: setting PAPERSET_RECRAWL_DAYS) and turn `--recent` into the
    range of the last that many days, today (UTC) included."""
    from datetime import timedelta

    from paperset.app.config import AppConfig

    if args.recrawl_days is None:
        args.recrawl_days = AppConfig.from_settings(settings).recrawl_days
    if args.recrawl_days < 1:
        raise BadInput(f"--recrawl-days must be at least 1, not {args.recrawl_days}")
    if args.recent:
        today = datetime.now(UTC).date()
        args.range = [*args.range, f"{today - timedelta(days=args.recrawl_days - 1)}:{today}"]


def apply_from_archive(args: argparse.Namespace) -> None:
    """`--from-archive PATH ...`: answer every request from those archives (setting PAPERSET_REPLAY), asking
    the site they recorded unless --base-url says otherwise."""
    if args.from_archive:
        from paperset.app.archives import replay_settings

        settings, args.base_url = replay_settings(args.from_archive, args.base_url)
        args.settings = [*args.settings, *settings]


def print_plan(args: argparse.Namespace, listings: list[Any], settings: Any,
               sweep: dict[str, Any] | None = None) -> int:
    """`paperset run --plan`: the requests and the time they take under the budgets; nothing fetched."""
    from paperset.app.plan import format_plan, make_plan

    plan = make_plan(listings, settings, fetch=args.fetch, base_url=args.base_url, details=args.details,
                     sweep=len(args.sweep_ids), all_papers=args.all_papers, links=args.links)
    if sweep is not None:
        plan["sweep_period"] = describe_period(sweep["papers"], sweep["size"])
    print(format_plan(plan))
    if args.json:
        print(json.dumps({k: v for k, v in plan.items() if k != "requests"} | {"requests": len(plan["requests"])},
                         sort_keys=True))
    return Exit.OK


def add_run_arguments(run: argparse.ArgumentParser) -> None:
    """`paperset run`'s own arguments, beside the crawl's."""
    run.add_argument("--out", type=Path, required=True, help="root folder of the datasets")
    run.add_argument("--name", default="hf-papers", help="the dataset's name (default hf-papers)")
    run.add_argument("--recrawl-days", type=int, default=None,
                     help="days whose counters still move: provisional, and re-crawled by --recent "
                          "(default: setting PAPERSET_RECRAWL_DAYS, 7)")
    run.add_argument("--recent", action="store_true",
                     help="crawl the last --recrawl-days days up to today (UTC): the rolling window of a nightly run")
    run.add_argument("--sweep", action="store_true",
                     help="also revisit the parent's least recently seen papers (PAPERSET_SWEEP_SIZE a night; "
                          "--recent does this unless the size is 0)")
    run.add_argument("--json", action="store_true",
                     help="stdout: only the outcome as one JSON line (the summary goes to stderr)")
    run.add_argument("--force", action="store_true",
                     help="publish even when the health gate trips (recorded in the card and manifest)")
    run.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                     help="wait this long for another run on the same dataset to finish (default: exit 4 at once)")
    run.add_argument("--plan", action="store_true",
                     help="print the requests the run would make and how long the budgets make it take; fetch nothing")
    run.add_argument("--yes", action="store_true",
                     help="go on with a run expected to take more than 30 min under the request budgets (see --plan)")
    run.add_argument("--redis", default=None, metavar="URL",
                     help="distribute the crawl through Redis (default: $PAPERSET_REDIS_URL when --workers is given; "
                          "give a password there: a URL here is shown as redis://***@host in the process list)")
    run.add_argument("--workers", type=int, default=None, metavar="N",
                     help="with --redis (or $PAPERSET_REDIS_URL): start N local workers (0: wait for remote "
                          "`paperset worker`s; without --workers, 0)")
    run.add_argument("--allow-partial", action="store_true",
                     help="publish even when some listings are incomplete (they are named in the manifest and "
                          "card; default: exit 5, nothing published)")
    run.add_argument("--from-archive", action="append", default=[], type=Path, metavar="PATH",
                     help="answer every request from this web archive (WARC; repeatable, in order), no network: "
                          "re-extracts a recorded run (a request it lacks leaves its listing incomplete)")
    run.add_argument("--no-resume", action="store_true",
                     help="start afresh even when the last run of the same arguments was killed mid-crawl")
