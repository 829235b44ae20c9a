"""The `paperset` command with a pause after every packaging step, so that a kill test can land a kill
inside each step: `python -m tests.slow_steps SECONDS ARGS...` from the repository root (ARGS as for
`paperset`). A test hook, not a product setting: the product never waits between steps."""

from __future__ import annotations

import sys
import time
from importlib.metadata import entry_points

from paperset.packager.build import PackagingProgress


def slowed(seconds: float) -> None:
    """Make every PackagingProgress.step pause `seconds` after it reports the step."""
    report = PackagingProgress.step

    def step(self: PackagingProgress, name: str) -> None:
        report(self, name)
        time.sleep(seconds)

    PackagingProgress.step = step  # type: ignore[method-assign]


def main() -> int:
    slowed(float(sys.argv[1]))
    [command] = entry_points(group="console_scripts", name="paperset")
    sys.argv = ["paperset", *sys.argv[2:]]
    return int(command.load()())


if __name__ == "__main__":
    sys.exit(main())
