"""The packager's errors, under one root (paperset/app/exits.py maps them to exit codes): each says why
nothing was published."""

from __future__ import annotations


class PackagerError(RuntimeError):
    """Packaging cannot go on; nothing was published."""


class BadArgument(PackagerError):
    """An argument the packager refuses before doing anything (exit 2)."""


class BadTarget(BadArgument):
    """The dataset's name or output folder is unusable (a bad argument); checked before any file is made."""


class DatasetLocked(PackagerError):
    """Another process holds the dataset's lock (exit 4)."""
