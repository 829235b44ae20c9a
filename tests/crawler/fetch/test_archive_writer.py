"""The archive's writer process (paperset/crawler/fetch/archive/writer.py): what it writes is what the
recorder wrote when it built the records in a thread of the crawl's process (member for member, byte for
byte, but the records' random ids), a 20 MB body included; a record it cannot build fails that response
only; killed under a waiting response, it fails that response and every later one; it imports no Scrapy
nor Twisted; a crawl leaves no process of it behind."""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import multiprocessing
import os
import random
import re
import signal
import subprocess
import sys
import zlib
from datetime import datetime
from ipaddress import IPv4Address
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from scrapy.http import HtmlResponse, Request, Response, TextResponse
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from paperset.crawler.fetch.archive import record
from paperset.crawler.fetch.archive.received import RECEIVED
from paperset.crawler.fetch.archive.recorder import ArchiveRecorder, exchange_of
from paperset.spool.redact import redact_headers
from tests.conftest import ROOT, project_crawler


def built_before(request: Request, response: Response, received: datetime, *, fingerprint: str, rendered: bool,
                 browser_page: str | None = None) -> bytes:
    """`exchange_records` as it was before the writer process: from Scrapy's request and response, in the
    crawl's own process (paperset/crawler/fetch/archive/record.py at 78365bd)."""
    def headers(scrapy_headers, dropped: frozenset[str]) -> list[tuple[str, str]]:
        pairs = [(k.decode("latin-1"), v.decode("latin-1")) for k, values in scrapy_headers.items() for v in values]
        return redact_headers([(k, v) for k, v in pairs if k.lower() not in dropped])

    writer = WARCWriter(None, gzip=False, warc_version=record.WARC_VERSION)
    url, date = record.archive_url(request.url), record.warc_date(received)
    decoded = rendered or browser_page is not None
    http = StatusAndHeaders(f"{response.status} {record._reason(response.status)}",
                            headers(response.headers, record._DROPPED_RENDERED if decoded else record._DROPPED),
                            protocol=response.protocol or "HTTP/1.1")
    fields = {"WARC-Date": date}
    if fingerprint:
        fields[record.FINGERPRINT] = fingerprint
    if rendered:
        fields[record.RENDERED] = "browser"
    if browser_page is not None:
        fields[record.BROWSER_PAGE] = record.archive_url(browser_page)
    if response.url != request.url:
        fields[record.RESPONSE_URL] = record.archive_url(response.url)
    if response.ip_address is not None:
        fields["WARC-IP-Address"] = str(response.ip_address)
    answer = writer.create_warc_record(url, "response", payload=io.BytesIO(response.body), length=len(response.body),
                                       warc_headers_dict=fields, http_headers=http)
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    asked = StatusAndHeaders(f"{request.method} {target} HTTP/1.1", headers(request.headers, record._DROPPED),
                             protocol="HTTP/1.1", is_http_request=True)
    question_fields = {"WARC-Date": date, "WARC-Concurrent-To": answer.rec_headers.get_header("WARC-Record-ID")}
    if request.body:
        question_fields[record.BODY_SHA1] = record.body_key(request.body)
    question = writer.create_warc_record(url, "request", payload=io.BytesIO(request.body), length=len(request.body),
                                         warc_headers_dict=question_fields, http_headers=asked)
    out = b""
    for made in (answer, question):
        buffer = io.BytesIO()
        writer._write_warc_record(buffer, made)
        out += record._gzip_member(buffer.getvalue())
    return out


def members(data: bytes) -> list[bytes]:
    """Each gzip member of `data`, decompressed, its records' random ids blanked."""
    found = []
    while data:
        member = zlib.decompressobj(zlib.MAX_WBITS + 16)
        found.append(re.sub(rb"<urn:uuid:[0-9a-f-]{36}>", b"<urn:uuid:>", member.decompress(data)))
        assert member.eof
        data = member.unused_data
    return found


def parsed(data: bytes) -> list[tuple]:
    """Every record as warcio reads it: type, WARC fields but its ids, HTTP status line and headers, payload."""
    ids = ("WARC-Record-ID", "WARC-Concurrent-To")
    return [(r.rec_type, [(k, v) for k, v in r.rec_headers.headers if k not in ids], r.http_headers.protocol,
             r.http_headers.statusline, r.http_headers.headers, r.raw_stream.read())
            for r in ArchiveIterator(io.BytesIO(data))]


def recorder_for(tmp_path: Path) -> ArchiveRecorder:
    return ArchiveRecorder.from_crawler(project_crawler(PAPERSET_ARCHIVE=str(tmp_path / "run.warc.gz"),
                                                        PAPERSET_SPOOL_FLUSH_EVERY=2))


def exchanges() -> list[tuple[Request, Response]]:
    """Live exchanges as the download handler gives them: secrets, a POST, a rendered redirect, a status
    without a phrase, a 20 MB body that does not compress."""
    api = Request("http://u:pw@h:8/api/papers/1?token=s3cret&p=2",
                  headers={"Authorization": "Basic czNjcmV0", "Accept": ["application/json", "*/*"]})
    post = Request("http://h:8/api/search", method="POST", body=b'{"q": "x"}', headers={"Cookie": "s=1"})
    browser = Request("http://h:8/papers?q=x", meta={"playwright": True})
    odd = Request("http://h:8/odd")
    big = Request("http://h:8/big")
    return [
        (api, TextResponse(api.url, status=200, body=b'{"id": "1"}', request=api, protocol="HTTP/1.1",
                           ip_address=IPv4Address("127.0.0.1"),
                           headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked",
                                    "Set-Cookie": ["a=1", "b=2"], "Content-Length": "11"})),
        (post, HtmlResponse(post.url, status=500, body=b"<html>busy</html>", request=post)),
        (browser, HtmlResponse("http://h:8/papers?q=x&tab=all", status=200, body="<html>é</html>".encode(),
                               request=browser, headers={"Content-Encoding": "gzip"})),
        (odd, Response(odd.url, status=599, body=b"", request=odd, protocol="HTTP/2")),
        (big, Response(big.url, status=200, body=random.Random(7).randbytes(20 << 20), request=big)),
    ]


def test_the_process_writes_what_the_thread_wrote_record_for_record(tmp_path) -> None:
    recorder = recorder_for(tmp_path)
    pairs = exchanges()
    page = "http://u:pw@h:8/papers?q=x"
    script = (Request("http://h:8/app.js"), Response("http://h:8/app.js", body=b"let x = 1;", headers={"A": "b"}))

    async def crawl() -> int:
        for request, response in pairs:
            assert await recorder.process_response(request, response) is response
        size = await recorder._write(exchange_of(*script, datetime.fromisoformat(pairs[0][0].meta[RECEIVED]),
                                                 fingerprint="", rendered=False, browser_page=page))
        recorder.spider_closed(None, "finished")
        return size

    browser_size = asyncio.run(crawl())
    fingerprinter = recorder.crawler.request_fingerprinter
    expected = b"".join(built_before(request, response, datetime.fromisoformat(request.meta[RECEIVED]),
                                     fingerprint=fingerprinter.fingerprint(request).hex(),
                                     rendered=bool(request.meta.get("playwright"))) for request, response in pairs)
    expected += built_before(*script, datetime.fromisoformat(pairs[0][0].meta[RECEIVED]), fingerprint="",
                             rendered=False, browser_page=page)
    written = (tmp_path / "run.warc.gz").read_bytes()
    warcinfo = zlib.decompressobj(zlib.MAX_WBITS + 16)
    warcinfo.decompress(written)
    info = len(written) - len(warcinfo.unused_data)  # the file's first member
    assert members(written)[1:] == members(expected) and len(members(expected)) == 12
    assert parsed(written[info:]) == parsed(expected)
    assert uris(tmp_path / "run.warc.gz")[0] == ("warcinfo", None)
    stats = recorder.stats.get_stats()
    assert stats["paperset/archive/records"] == 5 and "paperset/archive/failed" not in stats
    assert stats["paperset/archive/bytes"] + browser_size == len(written) - info
    assert stats["paperset/archive/write_s"] > 0 and stats["paperset/archive/path"] == str(tmp_path / "run.warc.gz")
    assert (recorder.writer.process.exitcode, multiprocessing.active_children()) == (0, [])


def test_a_record_the_process_cannot_build_fails_its_response_only(tmp_path) -> None:
    recorder = recorder_for(tmp_path)
    (request, response), (other, answer) = exchanges()[:2]

    async def crawl() -> None:
        broken = exchange_of(request, response, datetime.now().astimezone(), fingerprint="", rendered=False)
        with pytest.raises(OSError, match=r"^archive writer: TypeError: object of type 'NoneType' has no len\(\)$"):
            await recorder._write(broken._replace(response_body=None))
        assert await recorder.process_response(other, answer) is answer
        recorder.spider_closed(None, "finished")

    asyncio.run(crawl())
    stats = recorder.stats.get_stats()
    assert (stats["paperset/archive/failed"], stats["paperset/archive/records"]) == (1, 1)
    assert [(kind, uri) for kind, uri, *_ in uris(tmp_path / "run.warc.gz")] == [
        ("warcinfo", None), ("response", other.url), ("request", other.url)]


def uris(path: Path) -> list[tuple[str, str | None]]:
    with path.open("rb") as stream:
        return [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI")) for r in ArchiveIterator(stream)]


def test_a_killed_process_fails_the_waiting_response_and_every_later_one(tmp_path) -> None:
    recorder = recorder_for(tmp_path)
    (first, first_answer), (waiting, waiting_answer), (later, later_answer) = exchanges()[:3]
    gone = r"^archive writer exited \(code -9\)$"

    async def crawl() -> None:
        await recorder.process_response(first, first_answer)
        pid = recorder.writer.process.pid
        os.kill(pid, signal.SIGSTOP)  # it cannot answer: the next response waits for sure
        task = asyncio.ensure_future(recorder.process_response(waiting, waiting_answer))
        await asyncio.sleep(0.2)
        assert not task.done()
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(OSError, match=gone):
            await task
        with pytest.raises(OSError, match=gone):
            await recorder.process_response(later, later_answer)
        recorder.spider_closed(None, "finished")

    asyncio.run(crawl())
    stats = recorder.stats.get_stats()
    assert (stats["paperset/archive/records"], stats["paperset/archive/failed"]) == (1, 2)
    assert [kind for kind, _ in uris(tmp_path / "run.warc.gz")] == ["warcinfo", "response", "request"]
    assert len(gzip.decompress((tmp_path / "run.warc.gz").read_bytes())) > 0
    assert multiprocessing.active_children() == []


def test_a_stop_signal_sent_to_the_process_group_leaves_the_process_recording(tmp_path) -> None:
    """A service manager's SIGTERM (and a Ctrl-C's SIGINT) reach the whole group: the crawl drains
    gracefully, and what the drain receives is still recorded."""
    recorder = recorder_for(tmp_path)
    (first, first_answer), (second, second_answer) = exchanges()[:2]

    async def crawl() -> None:
        await recorder.process_response(first, first_answer)
        for stop in (signal.SIGTERM, signal.SIGINT):
            os.kill(recorder.writer.process.pid, stop)
        await asyncio.sleep(0.2)
        await recorder.process_response(second, second_answer)
        recorder.spider_closed(None, "shutdown")

    asyncio.run(crawl())
    assert recorder.stats.get_value("paperset/archive/records") == 2
    assert [kind for kind, _ in uris(tmp_path / "run.warc.gz")] == ["warcinfo", *["response", "request"] * 2]


@pytest.mark.parametrize("settings", [{"PAPERSET_ARCHIVE": ""}, {"PAPERSET_REPLAY": ["a.warc.gz"]}],
                         ids=["no-archive", "replay"])
def test_no_process_is_started_without_recording(tmp_path, settings) -> None:
    recorder = ArchiveRecorder.from_crawler(project_crawler(**{"PAPERSET_ARCHIVE": str(tmp_path / "r.warc.gz"),
                                                               **settings}))
    (request, response) = exchanges()[0]
    assert asyncio.run(recorder.process_response(request, response)) is response
    assert (recorder.writer, multiprocessing.active_children(), list(tmp_path.iterdir())) == (None, [], [])
    assert RECEIVED in request.meta


def test_the_process_module_imports_no_scrapy_nor_twisted() -> None:
    probe = ("import sys, paperset.crawler.fetch.archive.writer; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('scrapy', 'twisted')))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120,
                         check=True)
    assert out.stdout == "[]\n"


CRAWL = """
import json, multiprocessing, os, sys
from pathlib import Path
from paperset.app.crawl import CrawlJob, run_crawl
settings = {"LOG_LEVEL": "ERROR", "AUTOTHROTTLE_ENABLED": False, "PAPERSET_ARCHIVE": sys.argv[3]}
stats = run_crawl(CrawlJob(asked={"day": [sys.argv[2]]}, fetch="api", base_url=sys.argv[1], settings=settings))
children = []
for stat in Path("/proc").glob("[0-9]*/stat"):
    try:
        if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == os.getpid():
            children.append((stat.parent / "cmdline").read_bytes().replace(b"\\0", b" ").decode())
    except (OSError, IndexError):
        pass
print(json.dumps({"active": [p.name for p in multiprocessing.active_children()], "children": children,
                  "records": stats.get("paperset/archive/records"), "failed": stats.get("paperset/archive/failed"),
                  "responses": stats.get("downloader/response_count")}))
"""


def test_a_crawl_records_through_the_process_and_leaves_none_behind(tmp_path, replica) -> None:
    archive = tmp_path / "a.warc.gz"
    out = subprocess.run([sys.executable, "-c", CRAWL, replica.base_url, replica.index["days"][0], str(archive)],
                         capture_output=True, text=True, cwd=ROOT, timeout=300, check=True)
    found = json.loads(out.stdout.strip().splitlines()[-1])
    # multiprocessing's resource tracker (started with any "spawn" child) lives as long as its process.
    assert (found["active"], [c for c in found["children"] if "resource_tracker" not in c]) == ([], [])
    assert (found["records"], found["failed"]) == (found["responses"], None) and found["records"] >= 2
    assert [kind for kind, _ in uris(archive)].count("response") == found["records"]


NEVER_CLOSED = """
import asyncio, sys, time
from scrapy.http import Request, Response
from tests.crawler.fetch.test_archive_writer import recorder_for
from pathlib import Path

recorder = recorder_for(Path(sys.argv[1]))  # a crawl that records, then fails before its engine exists
request = Request("http://h:8/api/papers/1")
asyncio.run(recorder.process_response(request, Response(request.url, status=200, body=b"{}", request=request)))
time.sleep(1)  # the writer process ignores SIGTERM by now
print("leaving")
"""


def test_a_crawl_that_never_closes_its_recorder_still_lets_the_process_exit(tmp_path) -> None:
    """Scrapy builds the downloader's middlewares (the recorder starts its writer) before the pipelines: a
    pipeline that fails to build leaves no engine, so no spider_closed. At exit the writer's pipe is
    closed before multiprocessing joins its children: the writer ends, the archive holds what it got."""
    out = subprocess.run([sys.executable, "-c", NEVER_CLOSED, str(tmp_path)], capture_output=True, text=True,
                         cwd=ROOT, timeout=60)
    assert (out.returncode, out.stdout.strip()) == (0, "leaving")
    assert [kind for kind, _ in uris(tmp_path / "run.warc.gz")] == ["warcinfo", "response", "request"]
