"""`paperset run`: its arguments, the checks before anything runs, and the outcome printed (one JSON line
with --json, paperset/outcome.py)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crawler.listings import plan_listings
from paperset.args import check_base_url_arg, crawl_job, redis_errors, redis_url
from paperset.summary import format_summary
from spool.redact import redact


def print_run(outcome: dict[str, Any], as_json: bool) -> int:
    """The human summary of a run (on stderr with --json), then with --json the outcome as the one JSON
    line on stdout (paperset/outcome.py: the same keys for every outcome). The exit code."""
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


def _stopped_early(kind: str, message: str, as_json: bool) -> int:
    """A run that ended before crawling (locked, a packager or Redis failure): the message on stderr, and
    with --json the outcome line."""
    from paperset.outcome import outcome_record

    print(f"paperset run: {message}", file=sys.stderr)
    record = outcome_record(kind, reasons=[message], error=message)
    if as_json:
        print(json.dumps(record, sort_keys=True, default=str), flush=True)
    return int(record["exit_code"])


def cmd_run(args: argparse.Namespace) -> int:
    """Crawl, clean, package, verify: the command a scheduler runs."""
    from crawler.dedup.index import IndexUnreadable
    from packager.build import dataset_path
    from packager.errors import PackagerError
    from packager.lock import DatasetLocked, dataset_lock
    from spool.reader import SpoolError

    try:
        check_base_url_arg(args)
        apply_recent(args)
        listings = plan_listings(days=args.day, weeks=args.week, months=args.month, ranges=args.range,
                                 searches=args.search, trending=args.trending)
        if not listings:
            print("paperset run: nothing to crawl: give --day, --week, --month, --range, --search or --trending",
                  file=sys.stderr)
            return 2
        if args.plan:
            return print_plan(args, listings)
        from paperset.contact import warn_without_contact
        from paperset.crawl import crawl_settings
        from paperset.pandas_probe import skip_pandas_probe
        from paperset.plan import confirm, make_plan
        from paperset.run import check_publishable, crawl_and_package

        skip_pandas_probe()

        settings = crawl_settings(crawl_job(args, None))
        check_publishable(settings)
        confirm(make_plan(listings, settings, fetch=args.fetch, base_url=args.base_url, details=args.details),
                yes=args.yes)
        if args.links and redis_url(args):
            raise ValueError("--links is not available in a distributed run (--redis) yet: nothing would keep "
                             "the links its workers fetch")
        if args.workers is not None and args.workers < 0:
            raise ValueError(f"--workers must be 0 or more, not {args.workers}")
        if args.workers is not None and not redis_url(args):
            print("paperset run: --workers needs --redis URL (or PAPERSET_REDIS_URL)", file=sys.stderr)
            return 2
        warn_without_contact("run", settings, args.base_url)
        with dataset_lock(dataset_path(args.out, args.name), wait=args.wait):
            outcome = crawl_and_package(crawl_job(args, None), args.out, args.name,
                                        recrawl_days=args.recrawl_days, force=args.force,
                                        resume=not args.no_resume, redis=redis_url(args),
                                        workers=args.workers or 0, allow_partial=args.allow_partial)
    except DatasetLocked as exc:
        return _stopped_early("locked", str(exc), args.json)
    except IndexUnreadable as exc:
        return _stopped_early("failed", f"{redact(str(exc))}; nothing was published", args.json)
    except ValueError as exc:
        print(f"paperset run: {redact(str(exc))}", file=sys.stderr)
        return 2
    except (PackagerError, SpoolError) as exc:
        return _stopped_early("failed", f"{redact(str(exc))}; nothing was published", args.json)
    except redis_errors() as exc:
        return _stopped_early("failed", f"Redis at {redact(redis_url(args) or '')} failed ({exc}); nothing was "
                              "published", args.json)
    return print_run(outcome, args.json)


def apply_recent(args: argparse.Namespace) -> None:
    """Resolve `--recrawl-days` (default: setting PAPERSET_RECRAWL_DAYS) and turn `--recent` into the
    range of the last that many days, today (UTC) included."""
    from datetime import timedelta

    from paperset.crawl import crawl_settings

    if args.recrawl_days is None:
        args.recrawl_days = crawl_settings(crawl_job(args, None)).getint("PAPERSET_RECRAWL_DAYS")
    if args.recrawl_days < 1:
        raise ValueError(f"--recrawl-days must be at least 1, not {args.recrawl_days}")
    if args.recent:
        today = datetime.now(UTC).date()
        args.range = [*args.range, f"{today - timedelta(days=args.recrawl_days - 1)}:{today}"]


def print_plan(args: argparse.Namespace, listings: list[Any]) -> int:
    """`paperset run --plan`: the requests and the time they take under the budgets; nothing fetched."""
    from paperset.crawl import crawl_settings
    from paperset.plan import format_plan, make_plan

    plan = make_plan(listings, crawl_settings(crawl_job(args, None)), fetch=args.fetch,
                     base_url=args.base_url, details=args.details)
    print(format_plan(plan))
    if args.json:
        print(json.dumps({k: v for k, v in plan.items() if k != "requests"} | {"requests": len(plan["requests"])},
                         sort_keys=True))
    return 0


def add_run_arguments(run: argparse.ArgumentParser) -> None:
    """`paperset run`'s own arguments, beside the crawl's."""
    run.add_argument("--out", type=Path, required=True, help="root folder of the datasets")
    run.add_argument("--name", default="hf-papers", help="the dataset's name (default hf-papers)")
    run.add_argument("--recrawl-days", type=int, default=None,
                     help="days whose counters still move: provisional, and re-crawled by --recent "
                          "(default: setting PAPERSET_RECRAWL_DAYS, 7)")
    run.add_argument("--recent", action="store_true",
                     help="crawl the last --recrawl-days days up to today (UTC): the rolling window of a nightly run")
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
                     help="distribute the crawl through Redis (default: $PAPERSET_REDIS_URL when --workers is given)")
    run.add_argument("--workers", type=int, default=None, metavar="N",
                     help="with --redis (or $PAPERSET_REDIS_URL): start N local workers (0: wait for remote "
                          "`paperset worker`s; without --workers, 0)")
    run.add_argument("--allow-partial", action="store_true",
                     help="publish even when some listings are incomplete (they are named in the manifest and "
                          "card; default: exit 5, nothing published)")
    run.add_argument("--no-resume", action="store_true",
                     help="start afresh even when the last run of the same arguments was killed mid-crawl")
