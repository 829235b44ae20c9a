"""The one machine-readable outcome of `paperset run` / `demo` (`--json`): the same keys whatever happened,
and the exit code each outcome means."""

from __future__ import annotations

from typing import Any

from spool.redact import redact

# outcome -> exit code (README "Exit codes"); 2 (bad arguments) is a usage error, not an outcome.
EXIT_CODES = {"published": 0, "unchanged": 0, "failed": 1, "gate_tripped": 3, "locked": 4, "incomplete": 5}
BAD_ARGUMENTS = 2
# Always present; None where they do not apply.
KEYS = ("outcome", "exit_code", "version", "path", "parent", "reasons")


def outcome_record(outcome: str, *, version: str | None = None, path: str | None = None,
                   parent: str | None = None, reasons: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    """The JSON object of a run: KEYS first, then anything else (`crawl`, `health`, ...); passwords in
    URLs redacted."""
    if outcome not in EXIT_CODES:
        raise ValueError(f"unknown outcome {outcome!r}")
    record = {"outcome": outcome, "exit_code": EXIT_CODES[outcome], "version": version, "path": path,
              "parent": parent, "reasons": reasons}
    return redact({**extra, **record})
