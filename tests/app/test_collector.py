"""The run's cycle collector policy (paperset/app/crawl.py): roomy during the crawl, the crawl's objects set
aside while packaging, and everything as it was after."""

from __future__ import annotations

import gc
import weakref

import pytest

from paperset.app.crawl import COLLECT_EVERY, crawl_set_aside, roomy_collector


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


def test_the_roomy_collector_is_put_back_even_when_the_crawl_raises() -> None:
    before, inside = gc.get_threshold(), []

    def crawl() -> None:
        with roomy_collector():
            inside.append(gc.get_threshold())
            raise RuntimeError("the crawl failed")

    with pytest.raises(RuntimeError):
        crawl()
    assert inside == [(COLLECT_EVERY, *before[1:])]
    assert gc.get_threshold() == before


def test_what_the_crawl_left_is_set_aside_while_packaging_and_collected_after() -> None:
    gc.collect()
    left = weakref.ref(Node())  # garbage of the finished crawl: set aside too, not walked for on entry
    node = Node()
    alive = weakref.ref(node)
    with crawl_set_aside():
        gc.collect()
        assert left() is not None
        assert gc.get_freeze_count() > 0
        del node
        gc.collect()
        assert alive() is not None  # set aside: not walked
        made_inside = weakref.ref(Node())
        gc.collect()
        assert made_inside() is None  # the packaging's own garbage is collected as ever
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert alive() is None
    assert left() is None
