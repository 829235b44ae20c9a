"""The application's side of web archives (docs/archive.md; where they live: paperset/spool/archives.py): the checks
of `paperset run --from-archive` before a replay starts, and the recorded answer `paperset fixture save
--from-archive` cuts a case from."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from paperset.spool.archives import run_archive


def archive_setting(settings: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    """`PAPERSET_ARCHIVE` for a run's crawl: its archive file, unless the run replays archives (it records
    none) or the setting was given (`-s PAPERSET_ARCHIVE=` turns recording off)."""
    if settings.get("PAPERSET_REPLAY") or "PAPERSET_ARCHIVE" in settings:
        return {}
    return {"PAPERSET_ARCHIVE": str(run_archive(run_dir))}


def recorded_origin(path: Path) -> str | None:
    """The site an archive recorded (`scheme://host[:port]` of its first response; None: it holds none, e.g.
    a worker that got no request). ValueError when the file is not a readable WARC."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    try:
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type == "response":
                    parts = urlsplit(record.rec_headers.get_header("WARC-Target-URI"))
                    return f"{parts.scheme}://{parts.netloc}"
    except (OSError, ArchiveLoadFailed) as exc:
        raise ValueError(f"--from-archive {path}: not a readable web archive ({exc})") from None
    return None


def replay_settings(paths: list[Path], base_url: str | None) -> tuple[list[tuple[str, object]], str]:
    """The `-s` settings of a replay of `paths`, and the base URL to ask (the one given, else the site the
    first archive with a response recorded). ValueError (exit 2) for a missing or unreadable archive."""
    for path in paths:
        if not path.is_file():
            raise ValueError(f"--from-archive {path}: no such file")
        origin = recorded_origin(path)
        base_url = base_url or origin
    if base_url is None:
        raise ValueError("--from-archive: no archive holds a response; give --base-url")
    return [("PAPERSET_REPLAY", [str(p.resolve()) for p in paths])], base_url


def recorded_answer(paths: list[Path], url: str, *, rendered: bool) -> tuple[str, dict[str, str], str, str]:
    """The last answer the archives recorded for GET `url` (as the browser rendered it, with `rendered`):
    its text (decoded: de-chunked, decompressed, its charset), headers (lower-case names), WARC-Date and
    where it is (`PATH#record-id`). LookupError when no archive holds one."""
    from warcio.archiveiterator import ArchiveIterator

    from paperset.crawler.fetch.archive.record import BROWSER_PAGE, RENDERED, archive_url

    wanted, found = archive_url(url), None
    for path in paths:
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                fields = record.rec_headers
                if (record.rec_type == "response" and fields.get_header("WARC-Target-URI") == wanted
                        and (fields.get_header(RENDERED) == "browser") == rendered
                        and not fields.get_header(BROWSER_PAGE)):
                    http = record.http_headers
                    headers = {k.lower(): v for k, v in http.headers}
                    charset = headers.get("content-type", "").partition("charset=")[2].split(";")[0].strip()
                    text = record.content_stream().read().decode(charset or "utf-8", "replace")
                    found = (text, headers, fields.get_header("WARC-Date"),
                             f"{path}#{fields.get_header('WARC-Record-ID')}")
    if found is None:
        raise LookupError(f"no {'rendered ' if rendered else ''}answer to {wanted} in {', '.join(map(str, paths))}")
    return found
