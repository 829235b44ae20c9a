"""The web archive's records without a crawl: what an exchange becomes in WARC (read back by warcio), the
one redaction rule on the recorded request, and how replay finds answers (paperset/crawler/fetch/archive/)."""

from __future__ import annotations

import gzip
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse, Request, TextResponse
from warcio.archiveiterator import ArchiveIterator

from paperset.crawler.fetch.archive.record import exchange_records
from paperset.crawler.fetch.archive.recorder import exchange_of
from paperset.crawler.fetch.archive.replay import ArchiveIndex, load_response, request_key
from paperset.spool.redact import redact, redact_headers

WHEN = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)


def write(path: Path, *exchanges: tuple[Request, TextResponse, bool]) -> Path:
    with path.open("wb") as out:
        for request, response, rendered in exchanges:
            out.write(exchange_records(exchange_of(request, response, WHEN, fingerprint="f" * 40, rendered=rendered)))
    return path


def test_secrets_in_urls_and_headers_are_redacted_by_one_rule() -> None:
    assert redact("http://u:pw@h:1/api?token=abc&p=2&api_key=k#x") == "http://***@h:1/api?token=***&p=2&api_key=***#x"
    assert redact("see https://h/x?q=token&limit=5") == "see https://h/x?q=token&limit=5"
    assert redact_headers([("Authorization", "Basic dTpw"), ("cookie", "s=1"), ("Referer", "http://a:b@h/"),
                           ("Accept", "*/*")]) == [("Authorization", "***"), ("cookie", "***"),
                                                   ("Referer", "http://***@h/"), ("Accept", "*/*")]


def test_an_exchange_is_two_complete_gzip_members_read_back_whole_by_warcio(tmp_path) -> None:
    request = Request("http://h:8/api/papers/1?token=s3cret", headers={"Authorization": "Basic czNjcmV0",
                                                                       "Accept": "application/json"})
    body = b'{"id": "1"}'
    response = TextResponse(request.url, status=200, body=body, request=request, protocol="HTTP/1.1",
                            headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    data = exchange_records(exchange_of(request, response, WHEN, fingerprint="ab" * 20, rendered=False))
    first = zlib.decompressobj(zlib.MAX_WBITS + 16)
    first.decompress(data)
    assert first.eof and first.unused_data[:2] == b"\x1f\x8b"  # the response member ends, the request's begins
    assert b"s3cret" not in gzip.decompress(data) and b"czNjcmV0" not in gzip.decompress(data)
    path = tmp_path / "a.warc.gz"
    path.write_bytes(data)
    with path.open("rb") as stream:
        records = [(r.rec_type, dict(r.rec_headers.headers), r.http_headers, r.content_stream().read())
                   for r in ArchiveIterator(stream)]
    (kind, fields, http, payload), (asked_kind, asked, question, _) = records
    assert (kind, payload, http.get_statuscode()) == ("response", body, "200")
    assert http.get_header("Transfer-Encoding") is None  # the body is kept de-chunked
    assert fields["WARC-Date"] == "2026-03-04T05:06:07.891011Z"
    assert fields["WARC-Target-URI"] == asked["WARC-Target-URI"] == "http://h:8/api/papers/1?token=***"
    assert fields["Paperset-Request-Fingerprint"] == "ab" * 20 and "Paperset-Rendered" not in fields
    assert (asked_kind, asked["WARC-Concurrent-To"]) == ("request", fields["WARC-Record-ID"])
    assert (question.protocol, question.get_header("Authorization")) == ("GET", "***")


def test_replay_answers_in_recorded_order_keeps_browser_and_plain_apart_and_knows_no_other(tmp_path) -> None:
    url = "http://h/papers?q=x"
    plain = Request(url)
    browser = Request(url, meta={"playwright": True})
    first = TextResponse(url, status=500, body=b"busy", request=plain)
    second = HtmlResponse(url, status=200, body=b"<html>served</html>", request=plain)
    rendered = HtmlResponse(f"{url}&tab=all", status=200, body=b"<html>rendered</html>", request=browser,
                            headers={"Content-Encoding": "gzip"})
    index = ArchiveIndex([write(tmp_path / "a.warc.gz", (plain, first, False), (plain, second, False),
                                (browser, rendered, True))])
    answers = [load_response(index.next_answer(request_key(plain)), plain) for _ in range(3)]
    assert [(r.status, r.body, r.flags) for r, _ in answers] == [
        (500, b"busy", ["replayed"]), (200, b"<html>served</html>", ["replayed"]),
        (200, b"<html>served</html>", ["replayed"])]  # the last answer again once all were served
    answer, date = load_response(index.next_answer(request_key(browser)), browser)
    assert (answer.body, answer.flags, answer.headers.get("Content-Encoding")) == (
        b"<html>rendered</html>", ["replayed", "playwright"], None)  # the DOM, no longer compressed
    assert answer.url == f"{url}&tab=all"  # where the browser ended up
    assert date == "2026-03-04T05:06:07.891011Z"
    assert index.next_answer(request_key(Request("http://h/papers?q=y"))) is None
    assert index.next_answer(request_key(Request(url, method="POST", body=b"a=1"))) is None


@pytest.mark.parametrize("secret", ["http://u:pw@h/papers?q=x", "http://h/papers?q=x&token=pw"])
def test_replay_finds_a_request_whose_url_had_a_secret_under_its_redacted_url(tmp_path, secret) -> None:
    request = Request(secret)
    index = ArchiveIndex([write(tmp_path / "a.warc.gz", (request, HtmlResponse(secret, body=b"ok"), False))])
    answer = index.next_answer(request_key(Request(secret)))
    assert answer is not None and load_response(answer, request)[0].body == b"ok"
    assert b"pw" not in gzip.decompress((tmp_path / "a.warc.gz").read_bytes())


def test_a_later_archive_answers_a_request_an_earlier_one_also_answered(tmp_path) -> None:
    url = "http://h/api/daily_papers?date=2025-02-03&limit=50&p=0"
    asked, other = Request(url), Request("http://h/robots.txt")
    killed = write(tmp_path / "run.warc.gz", (asked, TextResponse(url, body=b"[1]", request=asked), False),
                   (other, TextResponse(other.url, body=b"User-agent: *", request=other), False))
    resumed = write(tmp_path / "run-2.warc.gz", (asked, TextResponse(url, body=b"[2]", request=asked), False))
    index = ArchiveIndex([killed, resumed])
    assert [load_response(index.next_answer(request_key(r)), r)[0].body for r in (asked, asked, other)] == [
        b"[2]", b"[2]", b"User-agent: *"]
