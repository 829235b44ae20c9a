"""The command line's shared arguments: the listing flags, `-s NAME=VALUE`, and the checks and the job
they make (used by `crawl`, `run` and `worker`)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from paperset.app.exits import REDIS_ENV
from paperset.crawler.settings.fields import FETCH_MODES
from paperset.crawler.site.kinds import FLAGS

if TYPE_CHECKING:  # imported when a job is made: building the parser imports no Scrapy
    from paperset.app.crawl import CrawlJob



def setting_arg(text: str) -> tuple[str, str]:
    """`NAME=VALUE` of `-s`, split."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def add_crawl_arguments(parser: argparse.ArgumentParser) -> None:
    """The listing flags (paperset/crawler/site/kinds.py FLAGS) and the crawl's options, shared by `crawl` and `run`."""
    for flag in FLAGS:  # the listing flags, one per row of paperset/crawler/site/kinds.py
        if flag.metavar is None:
            parser.add_argument(f"--{flag.name}", action="store_true", help=flag.help)
        else:
            parser.add_argument(f"--{flag.name}", action="append", default=[], metavar=flag.metavar,
                                help=flag.help)
    parser.add_argument("--details", action="store_true",
                        help="also fetch every paper's page (API first) for what listings lack")
    parser.add_argument("--all-papers", action="store_true",
                        help="also page the site's list of every indexed paper (/api/papers?cursor=), Daily Papers "
                             "or not; see --plan for its calls")
    parser.add_argument("--links", action="store_true",
                        help="also fetch every paper's Hub links: citing models, datasets, Spaces, collections")
    parser.add_argument("--fetch", choices=FETCH_MODES, default=None,
                        help="how listings are fetched (default: setting PAPERSET_FETCH, auto)")
    parser.add_argument("--base-url", default=None,
                        help="the site to crawl (default: setting PAPERSET_BASE_URL, https://huggingface.co)")
    parser.add_argument("-s", "--set", dest="settings", action="append", default=[], type=setting_arg,
                        metavar="NAME=VALUE",
                        help="override a Scrapy or paperset setting (repeatable); each is checked against its "
                             "declared type and range before anything runs (docs/settings.md)")


def crawl_job(args: argparse.Namespace, out: Path | None) -> CrawlJob:
    """The crawl the listing flags and `-s` settings ask for, writing to `out`."""
    from paperset.app.crawl import CrawlJob
    from paperset.crawler.site.listings import asked_from

    return CrawlJob(asked=asked_from(args), details=args.details, links=args.links,
                    all_papers=getattr(args, "all_papers", False), fetch=args.fetch, base_url=args.base_url,
                    out=out, settings=dict(args.settings), progress=wanted(args.json),
                    sweep=list(getattr(args, "sweep_ids", [])))


def check_base_url_arg(args: argparse.Namespace) -> None:
    """`--base-url` must be an http(s) URL with a host: ValueError (rc 2) before anything runs (the setting
    PAPERSET_BASE_URL given with -s is checked with every setting, paperset/crawler/settings/fields.py)."""
    from paperset.crawler.fetch.hosts import check_base_url

    if args.base_url is not None:
        check_base_url(args.base_url)


def redis_url(args: argparse.Namespace) -> str | None:
    """`--redis`, else $PAPERSET_REDIS_URL (a password is better kept out of the process list). For
    `run`, the environment counts only with `--workers`: a variable set for the workers' sake does not
    turn every run into a distributed one."""
    url = getattr(args, "redis", None)
    if url is None and getattr(args, "workers", 0) is not None:
        url = os.environ.get(REDIS_ENV)
    if url and not url.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(f"not a Redis URL: {url.split('@')[-1]!r}")
    return url


def wanted(as_json: bool, streams: tuple[TextIO, ...] | None = None) -> bool:
    """Show progress only to a person: both stdout and stderr (the current ones) are terminals and no
    `--json` was asked."""
    return not as_json and all(stream.isatty() for stream in streams or (sys.stdout, sys.stderr))
