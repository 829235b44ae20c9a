"""The replica's `/api/papers?cursor=&limit=`: every indexed paper (on Daily Papers or not), newest
publication first, as bare paper objects, paged by an opaque cursor announced in a
`Link: <…>; rel="next"` header (the Hub's published API description); the last page has no such link.
`limit` is 1-100 (default 50; outside: 400), a cursor the site did not give is a 400."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from paperset.crawler.replica.clock import paper_at

LIMIT_DEFAULT, LIMIT_MAX = 50, 100
JSON = {"Content-Type": "application/json"}


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int | None:
    """The offset a cursor stands for, None for one the site never gave."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    kind, _, number = text.partition(":")
    return int(number) if kind == "o" and number.isdigit() else None


def every_paper(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The corpus rows of distinct papers, newest publication first (then by id)."""
    unique = {row["paper"]["id"]: row for row in rows}
    return sorted(unique.values(), key=lambda r: (str(r["paper"].get("publishedAt", "")), r["paper"]["id"]),
                  reverse=True)


def page(rows: list[dict[str, Any]], query: dict[str, list[str]], night: int,
         base_url: str) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of one page of `/api/papers`."""
    try:
        limit = int(query.get("limit", [str(LIMIT_DEFAULT)])[0])
    except ValueError:
        limit = 0
    if not 1 <= limit <= LIMIT_MAX:
        return 400, JSON, b'{"error":"limit must be 1-100"}'
    start = 0
    if "cursor" in query:
        offset = decode_cursor(query["cursor"][0])
        if offset is None:
            return 400, JSON, b'{"error":"bad cursor"}'
        start = offset
    chosen = rows[start:start + limit]
    body = json.dumps([paper_at(r["paper"], r["numComments"], night) for r in chosen]).encode()
    headers = dict(JSON)
    if start + limit < len(rows):
        headers["Link"] = f'<{base_url}/api/papers?cursor={encode_cursor(start + limit)}&limit={limit}>; rel="next"'
    return 200, headers, body
