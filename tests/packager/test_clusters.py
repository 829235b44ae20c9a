"""Clusters do not depend on the order the crawl met their members in."""

from __future__ import annotations

import itertools

import pyarrow as pa

from paperset.packager.clusters import Clusters, apply


def clusters_of(links: list[tuple[str, str, float | None]]) -> list[dict]:
    found = Clusters()
    found.add_links(links)
    return found.table().to_pylist()


def test_every_order_of_the_same_links_gives_the_same_clusters() -> None:
    # The crawl records "B near-copies A (0.8)" or "A near-copies B (0.8)" depending on which it met first.
    orders = [
        [("b", "a", 0.8), ("c", "a", 0.9), ("x", "y", 0.75)],
        [("a", "b", 0.8), ("a", "c", 0.9), ("y", "x", 0.75)],
        [("c", "a", 0.9), ("a", "a", None), ("a", "b", 0.8), ("y", "y", None), ("x", "y", 0.75)],
    ]
    want = [{"paper_key": "a", "cluster_id": "a", "similarity": 0.9},
            {"paper_key": "b", "cluster_id": "a", "similarity": 0.8},
            {"paper_key": "c", "cluster_id": "a", "similarity": 0.9},
            {"paper_key": "x", "cluster_id": "x", "similarity": 0.75},
            {"paper_key": "y", "cluster_id": "x", "similarity": 0.75}]
    for links in orders:
        for permutation in itertools.permutations(links):
            assert clusters_of(list(permutation)) == want
    # A published version's rows (root pointing at itself) give back the same clusters.
    assert clusters_of([(r["paper_key"], r["cluster_id"], r["similarity"]) for r in want]) == want


def test_apply_sets_clusters_and_clears_papers_in_none() -> None:
    papers = pa.table({"paper_key": ["a", "b", "z"], "cluster_id": ["b", None, "q"],
                       "similarity": [0.8, None, 0.7]})
    found = Clusters()
    found.add_links([("a", "b", 0.8)])
    out = apply(papers, found.table())
    assert out.column("cluster_id").to_pylist() == ["a", "a", None]
    assert out.column("similarity").to_pylist() == [0.8, 0.8, None]
