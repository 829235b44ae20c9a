"""The one machine-readable outcome of a command (`--json`): the same keys whatever happened, and how a
failure is reported (one line on stderr, the outcome line with --json, the exit code of paperset/app/exits.py)."""

from __future__ import annotations

import json
import sys
import traceback
from typing import Any

from paperset.app.exits import OUTCOMES, classify
from paperset.spool.redact import redact

# outcome -> exit code (README "Exit codes", generated from paperset/app/exits.py).
EXIT_CODES = OUTCOMES
# Always present; None where they do not apply.
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
