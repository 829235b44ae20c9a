"""The `paperset` command line: crawl, demo, and the packager's commands."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from crawler.fixture_cli import register as register_fixture
from crawler.listings import plan_listings
from crawler.run import CrawlRequest, run_crawl
from crawler.summary import format_summary, summarize

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
                        fetch=args.fetch, base_url=args.base_url, out=out, settings=dict(args.settings))


def cmd_crawl(args: argparse.Namespace) -> int:
    """Crawl listings and write accepted entries as JSON lines to --out."""
    request = _crawl_request(args, args.out)
    try:
        listings = plan_listings(days=args.day, weeks=args.week, months=args.month, ranges=args.range,
                                 searches=args.search, trending=args.trending)
    except ValueError as exc:
        print(f"paperset crawl: {exc}", file=sys.stderr)
        return 2
    if not listings:
        print("paperset crawl: nothing to crawl: give --day, --week, --month, --range, --search or --trending",
              file=sys.stderr)
        return 2
    started = time.monotonic()
    stats = run_crawl(request)
    summary = summarize(stats, elapsed=time.monotonic() - started, out=args.out)
    print(format_summary(summary))
    if args.json:
        print(json.dumps(summary, sort_keys=True))
    return 0 if summary["finish_reason"] == "finished" else 1


def cmd_demo(args: argparse.Namespace) -> int:
    """Serve the bundled replica on loopback, crawl every listing kind it has, and print a summary."""
    from crawler.replica.server import ReplicaServer

    out_dir: Path = args.out
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with ReplicaServer() as server:
        index = server.index
        request = CrawlRequest(
            ranges=[f"{index['days'][0]}:{index['days'][-1]}"],
            weeks=list(index["weeks"]),
            months=list(index["months"]),
            searches=["pretraining", "pre-trained", "pre-training", "diffusion", "WebSailor", "Seeker", "Olympiad"],
            trending=True,
            base_url=server.base_url,
            out=out_dir / "entries.jsonl",
            settings={"LOG_LEVEL": args.log_level},
        )
        print(f"paperset demo: replica of Hugging Face Papers at {server.base_url}", flush=True)
        stats = run_crawl(request)
    summary = summarize(stats, elapsed=time.monotonic() - started, out=request.out)
    print(format_summary(summary))
    if args.json:
        print(json.dumps(summary, sort_keys=True))
    return 0 if summary["finish_reason"] == "finished" else 1


def build_parser() -> argparse.ArgumentParser:
    """The `paperset` argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="paperset", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    crawl = sub.add_parser("crawl", help="crawl listings into a JSON-lines file")
    add_crawl_arguments(crawl)
    crawl.add_argument("--out", type=Path, required=True, help="JSON-lines file of accepted entries")
    crawl.add_argument("--json", action="store_true", help="also print the summary as one JSON line, last")
    crawl.set_defaults(handler=cmd_crawl)

    demo = sub.add_parser("demo", help="crawl the bundled replica offline and print a summary")
    demo.add_argument("--out", type=Path, default=Path("out/demo"), help="output folder (default out/demo)")
    demo.add_argument("--log-level", default="WARNING", help="Scrapy log level (default WARNING)")
    demo.add_argument("--json", action="store_true", help="also print the summary as one JSON line")
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
