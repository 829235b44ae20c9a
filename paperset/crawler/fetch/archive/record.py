"""WARC records of one exchange: a `response` record (status line, headers and body as received) and its
`request` record, as two complete gzip members (ISO 28500, WARC/1.1: the date has microseconds), built
from an `Exchange`: plain data the recorder takes from Scrapy's request and response and the archive's
writer process builds (paperset/crawler/fetch/archive/writer.py; this module imports no Scrapy). Secrets
are redacted (paperset/spool/redact.py) in the recorded URL and headers; the names of paperset's own WARC fields."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime
from typing import NamedTuple
from urllib.parse import urlsplit

from isal import isal_zlib
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date, iso_date_to_datetime
from warcio.warcwriter import WARCWriter

from paperset.spool.redact import redact, redact_headers

WARC_VERSION = "1.1"
# paperset's own WARC fields (extension fields, ISO 28500 section 5.1).
RENDERED = "Paperset-Rendered"  # "browser": the body is the page as Chromium rendered it, not as served
FINGERPRINT = "Paperset-Request-Fingerprint"  # the request's Scrapy fingerprint, as the spool's ledger names it
BODY_SHA1 = "Paperset-Request-Body-SHA1"  # on the request record: what a POST sent (the replay key)
BROWSER_PAGE = "Paperset-Browser-Page"  # a response Chromium received while rendering that page (not replayed)
RESPONSE_URL = "Paperset-Response-URL"  # where the answer came from, when not the URL asked (the browser followed)
# Headers the body as recorded no longer matches: it is kept de-chunked (its length is recomputed), and a
# rendered page is the browser's DOM (no longer compressed).
_DROPPED = frozenset({"transfer-encoding", "content-length"})
_DROPPED_RENDERED = _DROPPED | {"content-encoding"}
# Each gzip member is deflated by ISA-L (the `isal` package: standard gzip, any gunzip reads it) at its
# level 2: on the replica's pages and answers 6-10x faster than zlib's level 4 for 7-10% more bytes
# (docs/archive.md).
GZIP_LEVEL = 2


class Exchange(NamedTuple):
    """One exchange as received, in plain picklable data (nothing decoded or redacted yet): the request's
    URL, method, header pairs (as Scrapy holds them, one pair a value) and body; the response's status,
    protocol, header pairs, body, URL and peer address; when it was received; the request's fingerprint
    (empty: none); `rendered`: the body is Chromium's DOM; `browser_page`: Chromium received it rendering
    that page."""

    url: str
    method: str
    request_headers: list[tuple[bytes, bytes]]
    request_body: bytes
    status: int
    protocol: str | None
    response_headers: list[tuple[bytes, bytes]]
    response_body: bytes
    response_url: str
    ip_address: str | None
    received: datetime
    fingerprint: str
    rendered: bool
    browser_page: str | None = None


def archive_url(url: str) -> str:
    """The URL as recorded and as replay looks it up: without credentials (the one redaction rule)."""
    return str(redact(url))


def body_key(body: bytes) -> str:
    """What a request sent, as a replay key: empty for no body, else its SHA-1."""
    return hashlib.sha1(body, usedforsecurity=False).hexdigest() if body else ""


def warc_date(when: datetime) -> str:
    return str(datetime_to_iso_date(when.astimezone(UTC).replace(tzinfo=None), use_micros=True))


def parse_warc_date(text: str) -> datetime:
    return iso_date_to_datetime(text).replace(tzinfo=UTC)


def _headers(pairs: list[tuple[bytes, bytes]], dropped: frozenset[str]) -> list[tuple[str, str]]:
    decoded = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in pairs]
    return redact_headers([(k, v) for k, v in decoded if k.lower() not in dropped])


def _gzip_member(data: bytes) -> bytes:
    compressor = isal_zlib.compressobj(GZIP_LEVEL, isal_zlib.DEFLATED, isal_zlib.MAX_WBITS + 16)
    return compressor.compress(data) + compressor.flush()


def exchange_records(exchange: Exchange) -> bytes:
    """The response and request records of one exchange, each a complete gzip member, as one bytes
    (written by one write: both are in the file, or neither). A browser page's exchange (`browser_page`)
    and a rendered page have their body decoded already."""
    writer = WARCWriter(None, gzip=False, warc_version=WARC_VERSION)
    url, date = archive_url(exchange.url), warc_date(exchange.received)
    status = f"{exchange.status} {_reason(exchange.status)}"
    decoded = exchange.rendered or exchange.browser_page is not None
    http = StatusAndHeaders(status, _headers(exchange.response_headers, _DROPPED_RENDERED if decoded else _DROPPED),
                            protocol=exchange.protocol or "HTTP/1.1")
    fields = {"WARC-Date": date}
    if exchange.fingerprint:
        fields[FINGERPRINT] = exchange.fingerprint
    if exchange.rendered:
        fields[RENDERED] = "browser"
    if exchange.browser_page is not None:
        fields[BROWSER_PAGE] = archive_url(exchange.browser_page)
    if exchange.response_url != exchange.url:
        fields[RESPONSE_URL] = archive_url(exchange.response_url)
    if exchange.ip_address is not None:
        fields["WARC-IP-Address"] = exchange.ip_address
    body = exchange.response_body
    answer = writer.create_warc_record(url, "response", payload=io.BytesIO(body), length=len(body),
                                       warc_headers_dict=fields, http_headers=http)
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    asked = StatusAndHeaders(f"{exchange.method} {target} HTTP/1.1", _headers(exchange.request_headers, _DROPPED),
                             protocol="HTTP/1.1", is_http_request=True)
    question_fields = {"WARC-Date": date, "WARC-Concurrent-To": answer.rec_headers.get_header("WARC-Record-ID")}
    sent = exchange.request_body
    if sent:
        question_fields[BODY_SHA1] = body_key(sent)
    question = writer.create_warc_record(url, "request", payload=io.BytesIO(sent), length=len(sent),
                                         warc_headers_dict=question_fields, http_headers=asked)
    out = b""
    for record in (answer, question):
        buffer = io.BytesIO()
        writer._write_warc_record(buffer, record)
        out += _gzip_member(buffer.getvalue())
    return out


def warcinfo_record(filename: str) -> bytes:
    """The file's first record: what wrote it and how (a gzip member)."""
    from importlib.metadata import version

    writer = WARCWriter(None, gzip=False, warc_version=WARC_VERSION)
    record = writer.create_warcinfo_record(filename, {
        "software": f"paperset/{version('paperset')} (warcio/{version('warcio')})", "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        "description": "every response of one paperset crawl, with its request (docs/archive.md)"})
    buffer = io.BytesIO()
    writer._write_warc_record(buffer, record)
    return _gzip_member(buffer.getvalue())


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"
