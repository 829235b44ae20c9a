"""`paperset fixture save URL --name NAME`: record a page or an API answer as a new fixture case, fetched
now or cut from a web archive (`--from-archive`, docs/archive.md); `paperset fixture check`: every case
still extracts to its expected.json (`scrapy check` runs the same, paperset/crawler/site/contracts.py)."""

from __future__ import annotations

import argparse
import http.client
import json
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from paperset import __version__
from paperset.app.exits import BadInput, Exit, PapersetError, checking


def fetch_page(url: str, timeout: float = 30) -> tuple[str, dict[str, str]]:
    """The page's text and response headers, fetched plainly (no JavaScript)."""
    request = urllib.request.Request(  # noqa: S310 - the command refuses all but http(s) URLs
        url, headers={"User-Agent": f"paperset/{__version__} fixture-save"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) URLs only
        charset = response.headers.get_content_charset() or "utf-8"
        return response.read().decode(charset, "replace"), {k.lower(): v for k, v in response.headers.items()}


def cmd_fixture_save(args: argparse.Namespace) -> int:
    """Fetch (or render) the URL and save it as a case: 0 saved, 1 the URL could not be fetched (nothing
    saved), 2 a bad URL or name, or the case exists."""
    from paperset.crawler.site.fixture_cases import save_case  # the page parsers: not for every command

    if not args.url.startswith(("http://", "https://")):
        raise BadInput(f"not an http(s) URL: {args.url}")
    captured_at, provenance = datetime.now(UTC).isoformat(timespec="seconds"), None
    try:
        if args.from_archive:
            from paperset.app.archives import recorded_answer

            body, headers, captured_at, where = recorded_answer(args.from_archive, args.url, rendered=args.render)
            provenance = f"cut by `paperset fixture save --from-archive` from the web archive {where}"
        elif args.render:
            from paperset.crawler.fetch.browser import render_page

            body, headers = render_page(args.url)
        else:
            body, headers = fetch_page(args.url)
    except (LookupError, ValueError) as exc:  # not in the archive, or not a web archive
        raise PapersetError(f"{exc}; nothing saved") from exc
    # HTTPError is a URLError; timeouts and a page Chromium could not load are OSErrors; a cut answer or
    # a bad URL an HTTPException.
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise PapersetError(f"could not fetch {args.url}: {exc}; nothing saved") from exc
    try:
        with checking():
            folder = save_case(args.fixtures, args.name, args.url, body, headers=headers, rendered=args.render,
                               captured_at=captured_at, provenance=provenance)
    except FileExistsError as exc:
        raise BadInput(str(exc)) from exc
    entries = len(json.loads((folder / "expected.json").read_text(encoding="utf-8"))["entries"])
    print(f"saved {folder} ({entries} entries in expected.json: review it, then commit the folder)")
    return Exit.OK


def cmd_fixture_update(args: argparse.Namespace) -> int:
    """Regenerate the cases' expected.json from the current extraction and print what changed, for
    review before commit: 0 done, 2 a name that is no case."""
    from paperset.crawler.site.fixture_cases import case_folders, update_case

    with checking():
        folders = case_folders(args.fixtures, args.cases)
    changed = 0
    for folder in folders:
        summary = update_case(folder)
        if summary:
            changed += 1
            print(f"{folder}/expected.json:")
            print("".join(f"  {line}\n" for line in summary), end="")
    print(f"{changed} of {len(folders)} cases changed (review with git diff, then commit)")
    return Exit.OK


def cmd_fixture_check(args: argparse.Namespace) -> int:
    """Extract every case with the current page code and compare with its expected.json (what `scrapy check`
    runs, paperset/crawler/site/contracts.py): 0 all match, 1 some differ (each named), 2 no case in the folder."""
    from paperset.crawler.site.contracts import check_cases

    with checking():
        count, failures = check_cases(args.fixtures)
    for failure in failures:
        print(f"differs  {failure}")
    print(f"{count - len(failures)} of {count} fixture cases match their expected.json")
    return Exit.FAILED if failures else Exit.OK


def register(sub: argparse._SubParsersAction) -> None:
    fixture = sub.add_parser("fixture", help="record pages as fixture cases")
    actions = fixture.add_subparsers(dest="fixture_command", required=True)
    save = actions.add_parser("save", help="save a page or API answer as a case folder under fixtures/cases/")
    save.add_argument("url")
    save.add_argument("--name", required=True, help="the case folder's name")
    save.add_argument("--render", action="store_true", help="render the page in Chromium first")
    save.add_argument("--from-archive", action="append", default=[], type=Path, metavar="PATH",
                      help="cut the case from this web archive (a run's WARC; repeatable): the last answer it "
                           "recorded for URL (with --render, as the browser rendered it), no fetch")
    save.add_argument("--fixtures", type=Path, default=Path("fixtures"), help="fixtures folder (default fixtures)")
    save.set_defaults(handler=cmd_fixture_save)
    update = actions.add_parser("update", help="regenerate the cases' expected.json from the current extraction")
    update.add_argument("cases", nargs="*", metavar="CASE", help="cases to update (extractor/name or name; "
                                                                  "default every case)")
    update.add_argument("--fixtures", type=Path, default=Path("fixtures"), help="fixtures folder (default fixtures)")
    update.set_defaults(handler=cmd_fixture_update)
    check = actions.add_parser("check", help="check every case's extraction against its expected.json "
                                             "(also `scrapy check`)")
    check.add_argument("--fixtures", type=Path, default=Path("fixtures"), help="fixtures folder (default fixtures)")
    check.set_defaults(handler=cmd_fixture_check)
