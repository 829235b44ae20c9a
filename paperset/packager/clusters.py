"""Near-duplicate clusters made independent of crawl order: the links the crawl recorded (a paper's
`cluster_id` and `similarity`) are joined into connected clusters, each named by its smallest
`paper_key`, each member given the highest similarity of its links. Two crawls that met the same papers
in another order (several workers, a resumed run) then publish the same clusters."""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa
import pyarrow.compute as pc


class Clusters:
    """Union-find over recorded links; `table()` gives (paper_key, cluster_id, similarity) per member."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.similarity: dict[str, float] = {}

    def _root(self, key: str) -> str:
        self.parent.setdefault(key, key)
        while self.parent[key] != key:
            self.parent[key] = self.parent[self.parent[key]]
            key = self.parent[key]
        return key

    def link(self, key: str, other: str, similarity: float | None) -> None:
        a, b = self._root(key), self._root(other)
        if a != b:
            self.parent[max(a, b)] = min(a, b)
        if similarity is not None:
            for member in {key, other}:
                self.similarity[member] = max(self.similarity.get(member, 0.0), similarity)

    def add(self, table: pa.Table) -> None:
        """Take the links of a table with paper_key, cluster_id and similarity columns."""
        linked = table.filter(pc.is_valid(table.column("cluster_id")))
        if linked.num_rows:
            self.add_links(zip(linked.column("paper_key").to_pylist(), linked.column("cluster_id").to_pylist(),
                               linked.column("similarity").to_pylist(), strict=True))

    def add_links(self, links: Iterable[tuple[str, str, float | None]]) -> None:
        for key, other, similarity in links:
            self.link(key, other, similarity)

    def table(self) -> pa.Table:
        keys = sorted(self.parent)
        return pa.table({"paper_key": pa.array(keys, pa.string()),
                         "cluster_id": pa.array([self._root(k) for k in keys], pa.string()),
                         "similarity": pa.array([self.similarity.get(k) for k in keys], pa.float64())})


def apply(papers: pa.Table, clusters: pa.Table) -> pa.Table:
    """`papers` with cluster_id and similarity taken from `clusters` (null for papers in none)."""
    where = pc.index_in(papers.column("paper_key"), value_set=clusters.column("paper_key"))
    for name in ("cluster_id", "similarity"):
        papers = papers.set_column(papers.schema.get_field_index(name), name,
                                   pc.take(clusters.column(name), where))
    return papers
