"""The spool's exceptions, under one root (paperset/app/exits.py maps it to exit code 1)."""

from __future__ import annotations


class SpoolError(Exception):
    """A spool that cannot be read or packaged as it is (unknown schema, cut line, unfinished)."""


# A crawl that met a full disk records the path it could not write here (a stat); the run fails naming it.
NO_SPACE_STAT = "paperset/no_space"
# A crawl whose near-duplicate index could not be saved at its end records the error here; the run fails.
INDEX_UNSAVED_STAT = "paperset/index_not_saved"


def no_space(exc: BaseException) -> bool:
    """Whether an error is a full disk (Python's ENOSPC/EDQUOT, or Arrow's IO error that only says so in
    words): the one test every layer uses."""
    import errno

    return isinstance(exc, OSError) and (exc.errno in (errno.ENOSPC, errno.EDQUOT)
                                         or "No space left on device" in str(exc))
