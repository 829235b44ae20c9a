"""Reading a crawl's spool while it crawls: a thread hands each part the crawl has finished (it writes the
next one) to the fold's intake (paperset/packager/intake.py), so that packaging a large crawl reads only
its last part. The crawl's own thread is left alone: the spool's JSON is parsed by Arrow outside the GIL,
on the machine's other core. Anything the thread cannot read ends its work quietly and the intake is
dropped: the fold then reads every part itself and reports what is wrong there, as without it."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from paperset.packager.intake import Intake
from paperset.spool.writer import finished_parts

logger = logging.getLogger(__name__)

# How often the thread looks for a finished part.
POLL_S = 0.5


class PreFold:
    """The intake of `spool`'s finished parts, filled by a thread between `start` and `finish`."""

    def __init__(self, spool: Path, folder: Path) -> None:
        self.spool = spool
        self.while_crawling = 0  # parts read before the crawl ended
        self.intake: Intake | None = Intake(folder)
        self.stop = threading.Event()
        self.failed: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="prefold", daemon=True)

    def start(self) -> PreFold:
        self.thread.start()
        return self

    def _run(self) -> None:
        assert self.intake is not None
        try:
            while True:
                stopping = self.stop.is_set()  # one more look after the crawl ended, then done
                for part in finished_parts(self.spool):
                    if part not in self.intake.parts:
                        self.intake.take_part(part, threads=False)
                if not stopping:
                    self.while_crawling = len(self.intake.parts)
                if stopping:
                    return
                self.stop.wait(POLL_S)
        except Exception as exc:  # the fold reads the spool itself and reports what is wrong
            self.failed = exc

    def finish(self) -> Intake | None:
        """Stop (after taking the parts finished by now) and give the intake, still this object's (`close`
        removes it); None when the thread failed (its folder removed)."""
        self.stop.set()
        self.thread.join()
        if self.failed is not None and self.intake is not None:
            logger.warning("the spool is read by the fold itself: reading it during the crawl failed (%s)",
                           self.failed)
            self.intake.remove()
            self.intake = None
        return self.intake

    def facts(self) -> dict[str, int]:
        """What it read: parts read while the crawl ran, and in all (the rest when it ended)."""
        return {"while_crawling": self.while_crawling, "in_all": len(self.intake.parts) if self.intake else 0}

    def close(self) -> None:
        """Stop the thread if it still runs and remove the intake's folder (after the fold, or instead)."""
        self.stop.set()
        self.thread.join()
        if self.intake is not None:
            self.intake.remove()
            self.intake = None
