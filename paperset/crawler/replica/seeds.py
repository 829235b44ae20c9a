"""Search result pages rendered to text (bundled in `paperset/crawler/replica/data/seeds/`) read back as (title,
abstract) pairs."""

from __future__ import annotations

import re
from pathlib import Path

# The page chrome a text rendering of a search page starts with.
HEADER_LINES = frozenset({
    "new", "Get trending papers in your email inbox once a day!", "Get trending papers in your email inbox!",
    "Subscribe", "byAK and the research community",
})
_DATE_LINE = re.compile(r"^[A-Z][a-z]{2} \d{1,2}$")
# Queries the seed pages answer (each seed's titles are results for one of these).
SEED_QUERIES = {
    "pretraining": "000_9a4666455fd9a015.txt",
    "pre-trained": "001_2298d6871f48356a.txt",
    "pre-training": "002_d2538ff36911be76.txt",
}


def parse_seed(text: str) -> list[tuple[str, str]]:
    """The (title, abstract) pairs of one seed page, in page order.

    The header is dropped line by line; where the rendering glued "Subscribe" to the first title, the
    prefix is cut. What follows alternates title line, abstract line.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    body: list[str] = []
    for line in lines:
        if not body and (line in HEADER_LINES or _DATE_LINE.match(line)):
            continue
        if not body and line.startswith("Subscribe"):
            line = line.removeprefix("Subscribe")
        body.append(line)
    if len(body) % 2:
        raise ValueError(f"a seed page must alternate title and abstract lines; {len(body)} lines left")
    return [(body[i], body[i + 1]) for i in range(0, len(body), 2)]


def load_seeds(folder: Path) -> dict[str, list[tuple[str, str]]]:
    """Every seed query's results: query -> [(title, abstract), ...]."""
    return {q: parse_seed((folder / name).read_text(encoding="utf-8")) for q, name in SEED_QUERIES.items()}
