"""The exit-code contract of every `paperset` command, defined once: the codes and what each means (printed
in every command's `--help` and in README.md, both generated from EXITS), the outcomes of the JSON line,
and the one table from exception to outcome (Scrapy's cmdline keeps such a table: UsageError is 2). Also
the one machine-readable outcome of a command (`--json`): the same keys whatever happened, and how a
failure is reported (one line on stderr, the outcome line with --json, the exit code).

Each layer has one exception root (paperset.crawler.errors.CrawlerError, paperset.packager.errors.PackagerError,
paperset.spool.errors.SpoolError, BadInput here); a ValueError is bad input only when raised while a command
checks its arguments (`checking()`), never an operational failure."""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from paperset.crawler.errors import CrawlerError, SettingError
from paperset.packager.errors import BadArgument, DatasetLocked, PackagerError
from paperset.spool.errors import SpoolError, no_space
from paperset.spool.redact import redact


class Exit(IntEnum):
    """The exit codes of every paperset command."""

    OK = 0
    FAILED = 1
    BAD_INPUT = 2
    GATE_TRIPPED = 3
    LOCKED = 4
    INCOMPLETE = 5


@dataclass(frozen=True)
class ExitRow:
    """One exit code: the outcomes (`outcome` of the --json line) that give it, what it means, and the
    document that says more (linked from README.md)."""

    code: Exit
    outcomes: tuple[str, ...]
    meaning: str
    doc: str | None = None


EXITS = (
    ExitRow(Exit.OK, ("published", "unchanged"), "done: a new version / nothing to do (no change since `parent`)"),
    ExitRow(Exit.FAILED, ("failed",), "nothing published: the site unreachable, every listing failed, a full "
            "disk, packaging, verifying or Redis failed"),
    ExitRow(Exit.BAD_INPUT, ("bad_input",), "nothing done: bad arguments or settings, one line on stderr "
            "naming them, before anything is fetched or created"),
    ExitRow(Exit.GATE_TRIPPED, ("gate_tripped",), "nothing published: the health gate tripped (`--force` publishes)",
            "docs/health-gate.md"),
    ExitRow(Exit.LOCKED, ("locked",), "nothing done: another run holds the dataset (`--wait SECONDS` waits)"),
    ExitRow(Exit.INCOMPLETE, ("incomplete",), "nothing published: a listing is incomplete; the next run fetches "
            "only what is missing (`--allow-partial` publishes, naming the missing listings in the manifest and card)"),
)
# outcome (the `outcome` of a --json line) -> exit code (README "Exit codes", generated from EXITS).
EXIT_CODES = {outcome: int(row.code) for row in EXITS for outcome in row.outcomes}


class PapersetError(Exception):
    """The application layer's root: a command that cannot go on."""


class BadInput(PapersetError):
    """Arguments or settings a command refuses before doing anything (exit 2)."""


@contextmanager
def checking() -> Iterator[None]:
    """A command's checks of its input: a ValueError raised in the block is bad input (BadInput)."""
    try:
        yield
    except ValueError as exc:  # none of the layers' own errors is one
        raise BadInput(str(exc)) from exc


def redis_errors() -> tuple[type[BaseException], ...]:
    """What `except` catches as a Redis failure: RedisError once redis-py is loaded (only then can one be
    raised), else nothing, so that a command without Redis never imports redis-py (its exceptions module
    imports the whole client)."""
    module = sys.modules.get("redis.exceptions")
    return (module.RedisError,) if module is not None else ()


# exception -> outcome, first match wins (subclasses before their roots).
TABLE: tuple[tuple[type[BaseException], str], ...] = (
    (BadInput, "bad_input"),
    (SettingError, "bad_input"),
    (BadArgument, "bad_input"),
    (DatasetLocked, "locked"),
    (PackagerError, "failed"),
    (SpoolError, "failed"),
    (CrawlerError, "failed"),
    (PapersetError, "failed"),
    (TimeoutError, "failed"),
)


def classify(exc: BaseException) -> tuple[str, str, bool]:
    """(outcome, one-line message, known): what an exception means for a command. Unknown ones (a bug)
    are `failed` too, and the caller shows their traceback."""
    if isinstance(exc, KeyboardInterrupt):
        return "failed", "interrupted", True
    if no_space(exc):
        where = getattr(exc, "filename", None)
        return "failed", f"no space left {f'writing {where}' if where else 'on the device'}", True
    for kind, outcome in TABLE:
        if isinstance(exc, kind):
            return outcome, redact(str(exc)), True
    if isinstance(exc, redis_errors()):
        return "failed", f"Redis failed ({redact(str(exc))})", True
    if isinstance(exc, OSError):
        return "failed", redact(f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}"), True
    return "failed", redact(f"unexpected {type(exc).__name__}: {exc}"), False


def help_epilog() -> str:
    """The exit codes, for every command's --help."""
    lines = ["exit codes:"]
    for row in EXITS:
        lines.append(f"  {int(row.code)}  {'/'.join(row.outcomes):<20} {row.meaning.replace('`', '')}")
    return "\n".join(lines)


def markdown_table() -> str:
    """The exit codes as README.md's table (tests/app/test_exit_codes.py holds them equal)."""
    rows = ["| outcome | exit | meaning |", "|---|---|---|"]
    rows += [f"| {' / '.join(f'`{o}`' for o in row.outcomes)} | {int(row.code)} | {row.meaning}"
             f"{f' ([{row.doc}]({row.doc}))' if row.doc else ''} |" for row in EXITS]
    return "\n".join(rows)


# The Redis URL of a distributed run, when `--redis` is not given (also how local workers get it).
REDIS_ENV = "PAPERSET_REDIS_URL"


@contextmanager
def redis_named(url: str | None) -> Iterator[None]:
    """A Redis failure in the block becomes one that names the server (its password redacted)."""
    try:
        yield
    except redis_errors() as exc:
        from paperset.spool.redact import redact

        raise PapersetError(f"Redis at {redact(url or '')} failed ({exc})") from exc


# The outcome line (--json): always present; None where they do not apply.
KEYS = ("outcome", "exit_code", "version", "path", "parent", "reasons")
# Commands whose failure means no new version: their message says so.
PUBLISHING = ("run", "package", "demo")
NOTHING = "nothing was published"


def outcome_record(outcome: str, *, version: str | None = None, path: str | None = None,
                   parent: str | None = None, reasons: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    """The JSON object of a run: KEYS first, then anything else (`crawl`, `health`, ...); passwords in
    URLs redacted."""
    if outcome not in EXIT_CODES:
        raise ValueError(f"unknown outcome {outcome!r}")
    record = {"outcome": outcome, "exit_code": EXIT_CODES[outcome], "version": version, "path": path,
              "parent": parent, "reasons": reasons}
    return redact({**extra, **record})


def report_failure(command: str, exc: BaseException, *, as_json: bool) -> int:
    """A command stopped by `exc`: one line on stderr naming what happened (a traceback first only for an
    exception no table knows: a bug), the outcome line on stdout with --json, and the exit code."""
    outcome, message, known = classify(exc)
    if not known:
        traceback.print_exception(exc)
    if command in PUBLISHING and outcome == "failed" and not any(
            said in message for said in (NOTHING, "nothing published")):
        message = f"{message}; {NOTHING}"
    print(f"paperset {command}: {message}", file=sys.stderr, flush=True)
    if as_json:
        print(json.dumps(outcome_record(outcome, reasons=[message], error=message), sort_keys=True, default=str),
              flush=True)
    return EXIT_CODES[outcome]
