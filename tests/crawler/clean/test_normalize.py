"""Normalization: exact canonical forms, and (hypothesis) idempotent and never raising on any text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperset.crawler.clean.normalize import (
    canonical_arxiv_id,
    canonical_timestamp,
    canonical_url,
    clean_list,
    clean_text,
)


@pytest.mark.parametrize(("raw", "clean"), [
    ("  The\nLlama 3\tHerd  ", "The\nLlama 3\tHerd".replace("\n", " ").replace("\t", " ")),
    ("A &amp; B", "A & B"),
    ("A &amp;amp; B", "A & B"),
    ("caf\u0065\u0301", "caf\u00e9"),
    ("nul\x00 and bell\x07 gone", "nul and bell gone"),
    ("lone \ud800surrogate", "lone surrogate"),
    ("see https://huggingface.host/papers/2409.12568 or hf-mirror.com/x",
     "see https://huggingface.co/papers/2409.12568 or huggingface.co/x"),
    ("KEEPS Case", "KEEPS Case"),
    ("\x00\x01 ", None),
    ("", None),
])
def test_clean_text(raw: str, clean: str | None) -> None:
    assert clean_text(raw) == clean


def test_non_text_passes_through_for_validation() -> None:
    assert clean_text(42) == 42
    assert clean_list(["  Ada  Lovelace ", "", "\x00", "Alan Turing"]) == ["Ada Lovelace", "Alan Turing"]
    assert clean_list([]) is None


@pytest.mark.parametrize(("raw", "expected"), [
    ("2409.12568", ("2409.12568", None)),
    ("2409.12568v2", ("2409.12568", 2)),
    ("arXiv:2409.12568v12", ("2409.12568", 12)),
    ("https://arxiv.org/abs/2409.12568v2", ("2409.12568", 2)),
    ("https://arxiv.org/pdf/2409.12568.pdf", ("2409.12568", None)),
    ("https://huggingface.co/papers/0704.0001", ("0704.0001", None)),
    ("hep-th/9901001", ("hep-th/9901001", None)),
    ("math.GT/0309136v1", ("math.GT/0309136", 1)),
    ("not-an-id", None),
    ("2409.123", None),
    (None, None),
])
def test_arxiv_ids(raw, expected) -> None:
    assert canonical_arxiv_id(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("http://github.com/a/b", "https://github.com/a/b"),
    ("https://GitHub.com:443/a/b?utm_source=x&tab=readme&fbclid=1", "https://github.com/a/b?tab=readme"),
    ("https://huggingface.host/papers/1", "https://huggingface.co/papers/1"),
    ("/avatars/x.svg", "https://huggingface.co/avatars/x.svg"),
    ("mcpmark.ai/", "https://mcpmark.ai/"),
    ("N/A", None),
    ("javascript:alert(1)", None),
    ("ftp://x.org/f", None),
    (None, None),
])
def test_urls(raw, expected) -> None:
    assert canonical_url(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("2024-05-27T07:54:25.329Z", "2024-05-27T07:54:25.329+00:00"),
    ("2024-05-27T09:54:25+02:00", "2024-05-27T07:54:25.000+00:00"),
    ("2024-08-01", "2024-08-01T00:00:00.000+00:00"),
    ("yesterday", None),
    (17, None),
])
def test_timestamps(raw, expected) -> None:
    assert canonical_timestamp(raw) == expected


@settings(max_examples=500)
@given(st.text())
def test_clean_text_is_idempotent_and_never_raises(text: str) -> None:
    once = clean_text(text)
    assert clean_text(once) == once


@settings(max_examples=300)
@given(st.text())
def test_url_and_id_and_date_normalizers_are_idempotent(text: str) -> None:
    url = canonical_url(text)
    assert url is None or canonical_url(url) == url
    parsed = canonical_arxiv_id(text)
    assert parsed is None or canonical_arxiv_id(parsed[0]) == (parsed[0], None)
    stamp = canonical_timestamp(text)
    assert stamp is None or canonical_timestamp(stamp) == stamp


@given(st.text(alphabet=st.sampled_from(list("&amp;lt#x0123456789;\x00 hf-mirror.com/huggingface.host"))))
def test_entity_and_host_soup_is_idempotent(text: str) -> None:
    once = clean_text(text)
    assert clean_text(once) == once


def _clean_text_reference(value: str) -> str | None:
    """clean_text before its fast paths: every step on every string."""
    import html
    import unicodedata

    from paperset.crawler.clean.normalize import _MIRROR_IN_TEXT, _UNWANTED, CANONICAL_HOST

    text = _UNWANTED.sub("", value)
    while True:
        decoded = _UNWANTED.sub("", html.unescape(text))
        if decoded == text:
            break
        text = decoded
    text = " ".join(unicodedata.normalize("NFC", text).split())
    return _MIRROR_IN_TEXT.sub(CANONICAL_HOST, text) or None


@settings(max_examples=500)
@given(st.text(alphabet=st.characters(max_codepoint=0x7F)) | st.text()
       | st.text(alphabet=st.sampled_from(list("aS .-\x00\x0b\t\n&;HF-MIRROR.COM/Huggingface.Host\u017f"))))
def test_clean_text_fast_paths_give_the_reference_result(text: str) -> None:
    assert clean_text(text) == _clean_text_reference(text)


@pytest.mark.parametrize("raw", ["plain ascii  title\n", "tab\tand\x0bvt", "x.hf-mirror.com stays",
                                 "see HF-Mirror.com/x and www.huggingface.HOST", "caf\u00e9 huggingface.host",
                                 "long s: huggingface.ho\u017ft"])
def test_clean_text_fast_paths_examples(raw: str) -> None:
    assert clean_text(raw) == _clean_text_reference(raw)


_URL_SOUP = st.text(alphabet=st.sampled_from(list("htps:/.aAZ0-_~%?#&=@[]\\;|é ")), max_size=40)


@settings(max_examples=800)
@given(st.builds(lambda host, path: f"https://{host}/{path}", _URL_SOUP, _URL_SOUP) | _URL_SOUP
       | st.sampled_from(["https://hf-mirror.com/x", "https://Example.com/x", "https://a.b:8443/x",
                          "https://u@a.b/x", "https://a.b/x?utm_source=y", "https://a.b/", "https://a.b"]))
def test_url_fast_path_gives_the_reference_result(text: str) -> None:
    from paperset.crawler.clean.normalize import _rebuilt_url

    cleaned = clean_text(text)
    reference = None if not isinstance(cleaned, str) or " " in cleaned else _rebuilt_url(cleaned, "https://huggingface.co")
    assert canonical_url(text) == reference


@settings(max_examples=800)
@given(st.lists(st.text(alphabet=st.sampled_from(list("ab |&\t\x00é.HF-MIRROR.COMhuggingface.host")), max_size=12),
                max_size=5)
       | st.lists(st.sampled_from(["Jian Hu", "A. B", " x", "y ", "", "a  b", "a|b", "hf-mirror.com"]), max_size=4))
def test_a_list_left_as_is_is_what_cleaning_each_name_gives(names: list[str]) -> None:
    from paperset.crawler.clean.normalize import left_as_is

    if left_as_is(names):
        assert [clean_text(name) for name in names] == names
    assert left_as_is(["Jian Hu", "A. B. Smith"])
