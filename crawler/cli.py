"""The `paperset` command line: crawl, demo, and the packager's commands."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from redis.exceptions import RedisError

from crawler.dedup.index import IndexUnreadable
from crawler.fixture_cli import register as register_fixture
from crawler.listings import plan_listings
from crawler.progress_display import wanted as progress_wanted
from crawler.run import CrawlRequest, crawl_settings, run_crawl
from crawler.runner import crawl_and_package
from crawler.summary import format_summary, summarize
from packager.manifest import redact

logger = logging.getLogger(__name__)


def _setting(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def add_crawl_arguments(parser: argparse.ArgumentParser) -> None:
    """The listing flags shared by `crawl` and later by `run`."""
    parser.add_argument("--day", action="append", default=[], metavar="YYYY-MM-DD",
                        help="a daily listing (repeatable)")
    parser.add_argument("--week", action="append", default=[], metavar="YYYY-Www",
                        help="a weekly listing, ISO week (repeatable)")
    parser.add_argument("--month", action="append", default=[], metavar="YYYY-MM",
                        help="a monthly listing (repeatable)")
    parser.add_argument("--range", action="append", default=[], metavar="START:END",
                        help="every day from START to END inclusive, for backfills (repeatable)")
    parser.add_argument("--search", action="append", default=[], metavar="Q",
                        help="a search listing, /papers?q=Q (repeatable)")
    parser.add_argument("--trending", action="store_true", help="the trending listing")
    parser.add_argument("--details", action="store_true",
                        help="also fetch every paper's page (API first) for what listings lack")
    parser.add_argument("--fetch", choices=("auto", "api", "page", "browser"), default=None,
                        help="how listings are fetched (default: setting PAPERSET_FETCH, auto)")
    parser.add_argument("--base-url", default=None,
                        help="the site to crawl (default: setting PAPERSET_BASE_URL, https://huggingface.co)")
    parser.add_argument("-s", "--set", dest="settings", action="append", default=[], type=_setting,
                        metavar="NAME=VALUE", help="override a Scrapy or paperset setting (repeatable)")


def _crawl_request(args: argparse.Namespace, out: Path | None) -> CrawlRequest:
    return CrawlRequest(days=args.day, weeks=args.week, months=args.month, ranges=args.range,
                        searches=args.search, trending=args.trending, details=args.details,
                        fetch=args.fetch, base_url=args.base_url, out=out, settings=dict(args.settings),
                        progress=progress_wanted(args.json))


def cmd_crawl(args: argparse.Namespace) -> int:
    """Crawl listings and write accepted entries as JSON lines to --out."""
    request = _crawl_request(args, args.out)
    try:
        check_base_url_arg(args)
        listings = plan_listings(days=args.day, weeks=args.week, months=args.month, ranges=args.range,
                                 searches=args.search, trending=args.trending)
        crawl_settings(request)  # every setting's type and range checked before anything runs
    except ValueError as exc:
        print(f"paperset crawl: {redact(str(exc))}", file=sys.stderr)
        return 2
    if not listings:
        print("paperset crawl: nothing to crawl: give --day, --week, --month, --range, --search or --trending",
              file=sys.stderr)
        return 2
    started = time.monotonic()
    try:
        stats = run_crawl(request)
    except IndexUnreadable as exc:
        print(f"paperset crawl: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:  # settings the near-dup index refuses
        print(f"paperset crawl: {exc}", file=sys.stderr)
        return 2
    summary = summarize(stats, elapsed=time.monotonic() - started, out=args.out)
    print(format_summary(summary))
    if args.json:
        print(json.dumps(summary, sort_keys=True))
    if summary["finish_reason"] != "finished":
        return 1
    from crawler.coverage import describe, incomplete

    missing = incomplete(summary["coverage"])
    if missing:
        print(f"paperset crawl: incomplete: {describe(missing)}", file=sys.stderr)
        return 5
    return 0


def print_run(outcome: dict[str, Any], as_json: bool) -> int:
    """The human summary of a run (on stderr with --json), then with --json the outcome as the one JSON
    line on stdout (crawler/outcome.py: the same keys for every outcome). The exit code."""
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
    from crawler.outcome import outcome_record

    print(f"paperset run: {message}", file=sys.stderr)
    record = outcome_record(kind, reasons=[message], error=message)
    if as_json:
        print(json.dumps(record, sort_keys=True, default=str), flush=True)
    return int(record["exit_code"])


def cmd_run(args: argparse.Namespace) -> int:
    """Crawl, clean, package, verify: the command a scheduler runs."""
    from packager.build import dataset_path
    from packager.errors import PackagerError
    from packager.lock import DatasetLocked, dataset_lock
    from packager.spool import SpoolError

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
        from crawler.plan import confirm, make_plan

        confirm(make_plan(listings, crawl_settings(_crawl_request(args, None)), fetch=args.fetch,
                          base_url=args.base_url, details=args.details), yes=args.yes)
        if args.workers is not None and args.workers < 0:
            raise ValueError(f"--workers must be 0 or more, not {args.workers}")
        if args.workers is not None and not redis_url(args):
            print("paperset run: --workers needs --redis URL (or PAPERSET_REDIS_URL)", file=sys.stderr)
            return 2
        with dataset_lock(dataset_path(args.out, args.name), wait=args.wait):
            outcome = crawl_and_package(_crawl_request(args, None), args.out, args.name,
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
    except RedisError as exc:
        return _stopped_early("failed", f"Redis at {redact(redis_url(args) or '')} failed ({exc}); nothing was "
                              "published", args.json)
    return print_run(outcome, args.json)


def check_base_url_arg(args: argparse.Namespace) -> None:
    """`--base-url` (or the setting PAPERSET_BASE_URL given with -s) must be an http(s) URL with a host:
    ValueError (rc 2) before anything runs."""
    from crawler.hosts import check_base_url

    url = args.base_url or dict(args.settings).get("PAPERSET_BASE_URL")
    if url is not None:
        check_base_url(url)


def apply_recent(args: argparse.Namespace) -> None:
    """Resolve `--recrawl-days` (default: setting PAPERSET_RECRAWL_DAYS) and turn `--recent` into the
    range of the last that many days, today (UTC) included."""
    from datetime import timedelta

    if args.recrawl_days is None:
        args.recrawl_days = crawl_settings(_crawl_request(args, None)).getint("PAPERSET_RECRAWL_DAYS")
    if args.recrawl_days < 1:
        raise ValueError(f"--recrawl-days must be at least 1, not {args.recrawl_days}")
    if args.recent:
        today = datetime.now(UTC).date()
        args.range = [*args.range, f"{today - timedelta(days=args.recrawl_days - 1)}:{today}"]


def print_plan(args: argparse.Namespace, listings: list[Any]) -> int:
    """`paperset run --plan`: the requests and the time they take under the budgets; nothing fetched."""
    from crawler.plan import format_plan, make_plan

    plan = make_plan(listings, crawl_settings(_crawl_request(args, None)), fetch=args.fetch,
                     base_url=args.base_url, details=args.details)
    print(format_plan(plan))
    if args.json:
        print(json.dumps({k: v for k, v in plan.items() if k != "requests"} | {"requests": len(plan["requests"])},
                         sort_keys=True))
    return 0


def redis_url(args: argparse.Namespace) -> str | None:
    """`--redis`, else $PAPERSET_REDIS_URL (a password is better kept out of the process list). For
    `run`, the environment counts only with `--workers`: a variable set for the workers' sake does not
    turn every run into a distributed one."""
    from crawler.workers import REDIS_ENV

    url = getattr(args, "redis", None)
    if url is None and getattr(args, "workers", 0) is not None:
        url = os.environ.get(REDIS_ENV)
    if url and not url.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(f"not a Redis URL: {url.split('@')[-1]!r}")
    return url


def cmd_worker(args: argparse.Namespace) -> int:
    """One crawl worker of a distributed run: takes requests from the shared Redis queue until drained."""
    from crawler.workers import run_worker

    try:
        url = redis_url(args)
        if not url:
            print("paperset worker: give --redis URL or set PAPERSET_REDIS_URL", file=sys.stderr)
            return 2
        stats = run_worker(url, args.name, worker=args.worker_id, wait_s=args.wait, log_file=args.log_file)
    except (ValueError, TimeoutError) as exc:
        print(f"paperset worker: {exc}", file=sys.stderr)
        return 2
    except RedisError as exc:
        print(f"paperset worker: Redis at {redact(url or '')} failed ({exc})", file=sys.stderr)
        return 1
    summary = summarize(stats, elapsed=0.0, out=None)
    print(f"paperset worker: {summary['pages_fetched']} pages, {summary['entries_found']} entries "
          f"({summary['finish_reason']})")
    return 0 if summary["finish_reason"] == "finished" else 1


def cmd_demo(args: argparse.Namespace) -> int:
    """Serve the bundled replica on loopback, crawl every listing kind it has, and print a summary."""
    from crawler.replica.server import ReplicaServer

    out_dir: Path = args.out
    out_dir.mkdir(parents=True, exist_ok=True)
    with ReplicaServer() as server:
        index = server.index
        request = CrawlRequest(
            ranges=[f"{index['days'][0]}:{index['days'][-1]}"],
            weeks=list(index["weeks"]),
            months=list(index["months"]),
            searches=["pretraining", "pre-trained", "pre-training", "diffusion", "WebSailor", "Seeker", "Olympiad"],
            trending=True,
            base_url=server.base_url,
            settings={"LOG_LEVEL": args.log_level},
            progress=progress_wanted(args.json),
        )
        print(f"paperset demo: replica of Hugging Face Papers at {server.base_url}", flush=True,
              file=sys.stderr if args.json else sys.stdout)
        outcome = crawl_and_package(request, out_dir / "datasets", "hf-papers")
    return print_run(outcome, args.json)


def installed_version() -> str:
    """The installed distribution's version (the package's own when run from a checkout)."""
    from importlib.metadata import PackageNotFoundError, version

    from crawler import __version__

    try:
        return version("paperset")
    except PackageNotFoundError:
        return __version__


def build_parser() -> argparse.ArgumentParser:
    """The `paperset` argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="paperset", description=__doc__)
    parser.add_argument("--version", action="version", version=f"paperset {installed_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    crawl = sub.add_parser("crawl", help="crawl listings into a JSON-lines file")
    add_crawl_arguments(crawl)
    crawl.add_argument("--out", type=Path, required=True, help="JSON-lines file of accepted entries")
    crawl.add_argument("--json", action="store_true", help="also print the summary as one JSON line, last")
    crawl.set_defaults(handler=cmd_crawl)

    run = sub.add_parser("run", help="crawl, clean, package and verify: the command a scheduler runs")
    add_crawl_arguments(run)
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
    run.set_defaults(handler=cmd_run)

    worker = sub.add_parser("worker", help="a crawl worker of a distributed run (shared Redis queue)")
    worker.add_argument("--redis", default=None, metavar="URL",
                        help="redis://[:password@]host:port/db (default: $PAPERSET_REDIS_URL)")
    worker.add_argument("--name", default="hf-papers", help="the dataset whose run to join (default hf-papers)")
    worker.add_argument("--worker-id", default=None, help="this worker's name (default host-pid-random)")
    worker.add_argument("--wait", type=float, default=60.0, metavar="SECONDS",
                        help="how long to wait for a run to be published (default 60)")
    worker.add_argument("--log-file", default=None, help="write the crawl log there")
    worker.set_defaults(handler=cmd_worker)

    demo = sub.add_parser("demo", help="crawl the bundled replica offline and print a summary")
    demo.add_argument("--out", type=Path, default=Path("out/demo"), help="output folder (default out/demo)")
    demo.add_argument("--log-level", default="WARNING", help="Scrapy log level (default WARNING)")
    demo.add_argument("--json", action="store_true",
                      help="stdout: only the outcome as one JSON line (the summary goes to stderr)")
    demo.set_defaults(handler=cmd_demo)

    register_fixture(sub)
    try:
        from packager.cli import register
    except ImportError:  # the packager arrives with its own issue
        pass
    else:
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `paperset` console script."""
    args = build_parser().parse_args(argv)
    handler: Any = args.handler
    return int(handler(args))


if __name__ == "__main__":
    sys.exit(main())
