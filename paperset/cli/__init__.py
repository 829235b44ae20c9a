"""The `paperset` command line: the parser and `--help` of every command (crawl, run, worker, demo,
fixture, and the packager's package, verify, diff, publish, pull, prune), each handing over to the
application (paperset.app), and the exit code of what happened (paperset/app/exits.py)."""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from paperset import __version__
from paperset.app.exits import EXIT_CODES, BadInput, Exit, checking, help_epilog, outcome_record, report_failure
from paperset.app.process import hide_secrets
from paperset.cli.args import add_crawl_arguments, check_base_url_arg, crawl_job, redis_url
from paperset.cli.dataset import register as register_dataset
from paperset.cli.fixture import register as register_fixture
from paperset.cli.run_command import add_run_arguments, cmd_run, print_run
from paperset.crawler.extensions.summary import format_summary, summarize
from paperset.crawler.site.kinds import nothing_to_crawl
from paperset.spool.arrow_memory import use_system_pool

# Scrapy, the near-dup index (numpy), Redis and the packager are imported by the commands that use them:
# `paperset verify` or `--help` pays for none of them (tests/app/test_lazy_imports.py).


def cmd_crawl(args: argparse.Namespace) -> int:
    """Crawl listings and write accepted entries as JSON lines to --out."""
    from paperset.app.contact import warn_without_contact
    from paperset.app.crawl import crawl_settings, run_crawl

    job = crawl_job(args, args.out)
    with checking():
        check_base_url_arg(args)
        if not job.listings() and not args.all_papers:
            raise BadInput(nothing_to_crawl())
        settings = crawl_settings(job)  # every setting's type and range checked before anything runs
    warn_without_contact("crawl", settings, args.base_url)
    started = time.monotonic()
    stats = run_crawl(job, settings=settings)
    summary = summarize(stats, elapsed=time.monotonic() - started, out=args.out)
    print(format_summary(summary))
    if args.json:
        print(json.dumps(summary, sort_keys=True))
    from paperset.crawler.tracking.coverage import describe, incomplete

    missing = incomplete(summary["coverage"])
    if summary["finish_reason"] != "finished":
        outcome, message = "failed", f"the crawl stopped ({summary['finish_reason']})"
    elif missing:
        outcome, message = "incomplete", f"incomplete: {describe(missing)}"
    else:
        return Exit.OK
    print(f"paperset crawl: {message}", file=sys.stderr)
    if args.json:  # README: a failed command given --json prints the outcome line last
        print(json.dumps(outcome_record(outcome, reasons=[message], error=message, crawl=summary), sort_keys=True))
    return EXIT_CODES[outcome]


def cmd_worker(args: argparse.Namespace) -> int:
    """One crawl worker of a distributed run: takes requests from the shared Redis queue until drained."""
    from paperset.app.local_worker import WorkerSpec
    from paperset.app.workers import run_worker_spec

    with checking():
        url = redis_url(args)
    return run_worker_spec(WorkerSpec(args.name, worker_id=args.worker_id, log_file=args.log_file, wait_s=args.wait,
                                  url=url))


def cmd_demo(args: argparse.Namespace) -> int:
    """Serve the bundled replica on loopback, crawl every listing kind it has, and print a summary."""
    from paperset.app.crawl import CrawlJob
    from paperset.app.process import skip_pandas_probe
    from paperset.app.run import crawl_and_package
    from paperset.cli.args import wanted as progress_wanted
    from paperset.crawler.replica.server import ReplicaServer
    from paperset.packager.build import dataset_path

    skip_pandas_probe()
    out_dir: Path = args.out
    dataset_path(out_dir / "datasets", "hf-papers")  # a bad --out is bad input (2) before the replica starts
    out_dir.mkdir(parents=True, exist_ok=True)
    with ReplicaServer() as server:
        index = server.index
        job = CrawlJob(
            asked={"range": [f"{index['days'][0]}:{index['days'][-1]}"], "week": list(index["weeks"]),
                   "month": list(index["months"]), "trending": True,
                   "search": ["pretraining", "pre-trained", "pre-training", "diffusion", "WebSailor", "Seeker",
                              "Olympiad"]},
            base_url=server.base_url,
            settings={"LOG_LEVEL": args.log_level},
            progress=progress_wanted(args.json),
        )
        print(f"paperset demo: replica of Hugging Face Papers at {server.base_url}", flush=True,
              file=sys.stderr if args.json else sys.stdout)
        outcome = crawl_and_package(job, out_dir / "datasets", "hf-papers")
    return print_run(outcome, args.json)


def build_parser() -> argparse.ArgumentParser:
    """The `paperset` argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="paperset", description=__doc__)
    parser.add_argument("--version", action="version", version=f"paperset {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    crawl = sub.add_parser("crawl", help="crawl listings into a JSON-lines file")
    add_crawl_arguments(crawl)
    crawl.add_argument("--out", type=Path, required=True, help="JSON-lines file of accepted entries")
    crawl.add_argument("--json", action="store_true", help="also print the summary as one JSON line, last "
                       "(a failed or incomplete crawl: its outcome line, the summary as `crawl`)")
    crawl.set_defaults(handler=cmd_crawl)

    run = sub.add_parser("run", help="crawl, clean, package and verify: the command a scheduler runs")
    add_crawl_arguments(run)
    add_run_arguments(run)
    run.set_defaults(handler=cmd_run)

    worker = sub.add_parser("worker", help="a crawl worker of a distributed run (shared Redis queue)")
    worker.add_argument("--redis", default=None, metavar="URL",
                        help="redis://[:password@]host:port/db (default: $PAPERSET_REDIS_URL, the way to give a "
                             "password: the environment is not in the process list)")
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
    register_dataset(sub)
    with_exit_codes(parser)
    return parser


def with_exit_codes(parser: argparse.ArgumentParser) -> None:
    """Every command's --help ends with the exit codes (paperset/app/exits.py), subcommands' too."""
    parser.epilog = help_epilog()
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                with_exit_codes(child)


def script() -> NoReturn:
    """The `paperset` command (and `python -m paperset.cli`): `main`'s exit code, then the process leaves once
    everything is out (the atexit handlers run: logging's, multiprocessing's; stdout and stderr flushed)
    without taking its objects down one by one, which after a crawl took ~0.35 s (bench/README.md, crawl).
    Output that cannot be written (a full disk behind `--json > file`) exits 120, as Python's own exit does."""
    code = main()
    try:
        atexit._run_exitfuncs()
    finally:
        try:
            sys.stdout.flush()
        except (OSError, ValueError):  # the outcome line is lost: never exit 0 then
            code = code or 120
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
        os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `paperset` console script: the command's exit code, or the one its exception
    means (paperset/app/exits.py), with one line on stderr and, with --json, the outcome line."""
    hide_secrets()  # before anything else: a password given in a URL leaves the process list at once
    use_system_pool()  # before pyarrow is imported (paperset/spool/arrow_memory.py)
    args = build_parser().parse_args(argv)
    handler: Any = args.handler
    try:
        return int(handler(args))
    except (Exception, KeyboardInterrupt) as exc:  # every failure: its exit code and its outcome line
        command = " ".join(filter(None, (args.command, getattr(args, "fixture_command", None))))
        return report_failure(command, exc, as_json=bool(getattr(args, "json", False)))
