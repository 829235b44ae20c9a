"""`paperset fixture save URL --name NAME`: record a page as a new fixture case for the spider tests."""

from __future__ import annotations

import argparse
import sys
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from paperset import __version__


def fetch_page(url: str, timeout: float = 30) -> tuple[str, dict[str, str]]:
    """The page's text and response headers, fetched plainly (no JavaScript)."""
    request = urllib.request.Request(url, headers={"User-Agent": f"paperset/{__version__} fixture-save"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) URLs only
        charset = response.headers.get_content_charset() or "utf-8"
        return response.read().decode(charset, "replace"), {k.lower(): v for k, v in response.headers.items()}


def cmd_fixture_save(args: argparse.Namespace) -> int:
    from crawler.fixture_cases import save_case  # the page parsers: not for every command

    if not args.url.startswith(("http://", "https://")):
        print(f"paperset fixture save: not an http(s) URL: {args.url}", file=sys.stderr)
        return 2
    if args.render:
        from crawler.browser import render_page

        body, headers = render_page(args.url)
    else:
        body, headers = fetch_page(args.url)
    try:
        case = save_case(args.fixtures, args.name, args.url, body, headers=headers, rendered=args.render,
                         captured_at=datetime.now(UTC).isoformat(timespec="seconds"))
    except (ValueError, FileExistsError) as exc:
        print(f"paperset fixture save: {exc}", file=sys.stderr)
        return 2
    entries = len(case.expected()["entries"])
    print(f"saved {case.path} ({entries} entries in expected.json: review it, then commit the folder)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    fixture = sub.add_parser("fixture", help="record pages as fixture cases")
    actions = fixture.add_subparsers(dest="fixture_command", required=True)
    save = actions.add_parser("save", help="save a page into a new case folder under fixtures/")
    save.add_argument("url")
    save.add_argument("--name", required=True, help="the case folder's name")
    save.add_argument("--render", action="store_true", help="render the page in Chromium first")
    save.add_argument("--fixtures", type=Path, default=Path("fixtures"), help="fixtures folder (default fixtures)")
    save.set_defaults(handler=cmd_fixture_save)
