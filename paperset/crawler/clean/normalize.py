"""Canonicalisation shared by all sites: text, arXiv ids, URLs, dates, author lists. Never raises."""

from __future__ import annotations

import html
import re
import unicodedata
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

CANONICAL_HOST = "huggingface.co"
# Mirrors that serve copies of the site: an abstract seen through one differs only in these hosts.
MIRROR_HOSTS = ("huggingface.host", "hf-mirror.com", "www.hf-mirror.com", "www.huggingface.co")
_MIRROR_IN_TEXT = re.compile(r"(?<![\w.-])(?:www\.)?(?:huggingface\.host|hf-mirror\.com)(?![\w-])", re.I)
# Control characters (Cc) other than whitespace, lone surrogates (Cs), noncharacters, and the
# bidirectional embedding, override and isolate controls (U+202A-U+202E, U+2066-U+2069), which can make
# stored text display as something else.
_UNWANTED = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]")
_NEW_ID = re.compile(r"^(\d{4}\.\d{4,5})(?:v(\d+))?$")
_OLD_ID = re.compile(r"^([a-z][a-z-]*(?:\.[A-Z]{2})?/\d{7})(?:v(\d+))?$")
_ID_PREFIX = re.compile(r"^(?:arxiv:|https?://(?:www\.)?(?:arxiv\.org|huggingface\.co)/(?:abs|pdf|papers)/)", re.I)
_TRACKING = re.compile(r"^(?:utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|ref|ref_src|spm|_hs\w+)$", re.I)


def clean_text(value: Any) -> Any:
    """Text as stored: entities decoded, control characters, bidi controls and lone surrogates removed, NFC,
    whitespace collapsed, mirror hosts replaced by the canonical host. Non-strings pass unchanged
    (validation judges them); empty text becomes None.

    Entities are decoded to a fixed point, so a value escaped twice on its way through the site's
    JSON-in-HTML comes out as text once, and normalizing normalized text changes nothing.
    """
    if not isinstance(value, str):
        return value
    if "&" not in value and value.isprintable() and (value.isascii() or unicodedata.is_normalized("NFC", value)):
        # Fast path, same result: no entity, nothing unwanted (no unwanted character is printable), already
        # NFC (ASCII is); the only whitespace a printable text holds is the space.
        text = value if "  " not in value and value[:1] != " " and value[-1:] != " " else " ".join(value.split())
    elif value.isascii() and "&" not in value:
        # ASCII without `&` has no entity to decode and is already NFC.
        text = " ".join(_UNWANTED.sub("", value).split())
    else:
        text = _UNWANTED.sub("", value)
        while True:
            decoded = _UNWANTED.sub("", html.unescape(text))
            if decoded == text:
                break
            text = decoded
        text = " ".join(unicodedata.normalize("NFC", text).split())
    # The host scan is slow; ASCII text without a mirror host in it has nothing for it to replace.
    lowered = text.lower() if text.isascii() else None
    if lowered is None or "huggingface.host" in lowered or "hf-mirror.com" in lowered:
        text = _MIRROR_IN_TEXT.sub(CANONICAL_HOST, text)
    return text or None


def left_as_is(texts: list[str] | tuple[str, ...]) -> bool:
    """True only if clean_text leaves every one of these strings as it is: one test over their join (printable,
    NFC, no `&`, no empty item, single inner spaces, no mirror host), made for lists of names. False may
    be wrong (a `|` in a name), True never is."""
    joined = "|".join(texts)
    if not joined or not joined.isprintable() or "&" in joined or "  " in joined:
        return False
    if "| " in joined or " |" in joined or "||" in joined or joined[0] in " |" or joined[-1] in " |":
        return False
    if joined.isascii():
        lowered = joined.lower()
        return "huggingface.host" not in lowered and "hf-mirror.com" not in lowered
    # `|` is a starter that composes with nothing and no host matches across it: the join's answers are
    # its items'.
    return unicodedata.is_normalized("NFC", joined) and _MIRROR_IN_TEXT.search(joined) is None


def has_unwanted_characters(value: Any) -> bool:
    """Whether text holds control characters, lone surrogates or noncharacters (which cleaning removes)."""
    # No unwanted character is printable: printable text (most) needs no regex scan.
    return isinstance(value, str) and not value.isprintable() and _UNWANTED.search(value) is not None


def canonical_arxiv_id(value: Any) -> tuple[str, int | None] | None:
    """(`2409.12568`, version) or (`hep-th/9901001`, version) from any usual spelling; None if not one."""
    if not isinstance(value, str):
        return None
    text = _ID_PREFIX.sub("", value.strip())
    text = text.removesuffix(".pdf").rstrip("/")
    for pattern in (_NEW_ID, _OLD_ID):
        match = pattern.match(text)
        if match:
            return match.group(1), int(match.group(2)) if match.group(2) else None
    return None


def canonical_url(value: Any, *, base: str = f"https://{CANONICAL_HOST}") -> str | None:
    """https, lower-case host, mirrors mapped to the canonical host, tracking parameters and default
    ports removed; relative URLs resolved against the canonical site. None for what is not a URL."""
    text = clean_text(value)
    if not isinstance(text, str) or " " in text:
        return None
    if _plain_https(text):
        return text
    return _rebuilt_url(text, base)


def _plain_https(text: str) -> bool:
    """True only for a cleaned URL that canonical_url gives back as it is: `https://host/path`, ASCII, a
    lower-case host with a dot (not a mirror), no port, user, query, fragment or brackets. (A thumbnail
    or project link is mostly so; urlsplit and urlencode cost more than the rest of an entry's cleaning.)"""
    if not text.startswith("https://") or not text.isascii() or "?" in text or "#" in text:
        return False
    slash = text.find("/", 8)
    host = text[8:slash]
    return (slash > 8 and "." in host and host == host.lower() and host not in MIRROR_HOSTS
            and not any(c in host for c in ":@[]\\"))


def _rebuilt_url(text: str, base: str) -> str | None:
    """canonical_url's work on cleaned text without spaces: resolved, split, its parts canonical, joined."""
    if text.startswith("/") and not text.startswith("//"):
        text = urljoin(base, text)
    elif text.startswith("//"):
        text = "https:" + text
    elif "://" not in text and "." in text.split("/")[0]:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host or "." not in host:
        return None
    if host in MIRROR_HOSTS:
        host = CANONICAL_HOST
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if not _TRACKING.match(k)])
    return urlunsplit(("https", netloc, parts.path or "/", query, parts.fragment))


def canonical_timestamp(value: Any) -> str | None:
    """An ISO-8601 UTC timestamp with milliseconds (`2024-05-24T17:34:15.000+00:00`); None if unparseable.

    A date alone means midnight UTC; a time without a zone is taken as UTC.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def clean_list(values: Any) -> Any:
    """A list of names or keywords: each cleaned, empty ones dropped, order kept; None if none left."""
    if not isinstance(values, list):
        return values
    cleaned = [clean_text(v) if isinstance(v, str) else v for v in values]
    kept = [v for v in cleaned if v is not None]
    return kept or None

