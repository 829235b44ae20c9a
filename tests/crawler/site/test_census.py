"""The key census (paperset/crawler/site/source.py `census`): every key no column maps is counted by its path, in
nested objects and lists of them too, whatever order the keys come in; viewer-dependent keys never."""

from __future__ import annotations

from collections import Counter

from paperset.crawler.site.source import census


def test_unmapped_keys_are_counted_by_path_at_every_depth_and_in_any_key_order() -> None:
    paper = {"id": "2501.00001", "title": "T", "isLikedByUser": True, "license": "mit",
             "authors": [{"name": "Ada", "_id": "a1", "shoeSize": 41, "user": {"user": "ada", "badge": "gold"}},
                         {"shoeSize": 40, "name": "Bob", "user": {"badge": "x", "user": "bob", "isUserFollowing": 1}},
                         "not an object", {"name": "Cy"}]}
    item = {"paper": paper, "title": "T", "sponsor": "ACME", "isUserFollowing": False}
    out: Counter[str] = Counter()
    census(paper, item, out)
    census(paper, item, out)  # the second time through the remembered key sets: the same counts again
    assert out == {"paper.license": 2, "paper.authors[].shoeSize": 4, "paper.authors[].user.badge": 4,
                   "item.sponsor": 2}
