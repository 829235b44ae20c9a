"""What a paper's page shows beyond its API answer, read from its `PaperContent` props: the upvoters it
lists (user names, a preview of the most recent, not all of `upvotes`) and `dailyPaperRank` (its rank
on its Daily Papers day, 1 = top). Values of the wrong type are passed on for validation to count."""

from __future__ import annotations

from typing import Any


def upvoter_names(value: Any) -> list[Any] | None:
    """The user names of a page's `upvoters` (user references: `user`, else `name`), in the page's order."""
    if not isinstance(value, list):
        return None
    return [(u.get("user") or u.get("name")) if isinstance(u, dict) else u for u in value]


def page_extras(props: dict[str, Any]) -> tuple[list[Any] | None, Any]:
    """(upvoters, daily_paper_rank) of a paper page's props; None where the page has none."""
    return upvoter_names(props.get("upvoters")), props.get("dailyPaperRank")
