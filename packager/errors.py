"""The packager's errors: each says why nothing was published."""

from __future__ import annotations


class PackagerError(RuntimeError):
    """Packaging cannot go on; nothing was published."""


class BadTarget(ValueError):
    """The dataset's name or output folder is unusable (a bad argument); checked before any file is made."""
