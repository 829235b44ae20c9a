"""The project's home page, one fact: the `[project.urls]` of pyproject.toml, read from the installed
package's metadata. The User-Agent (when no operator contact is set) and the card name it; where the
metadata names none, they name nothing (paperset has no public home, so its pyproject has no
[project.urls]). Shared by the crawl and the packager, so it lives in the contract between them."""

from __future__ import annotations

from email.message import Message
from importlib.metadata import PackageNotFoundError, metadata

DISTRIBUTION = "paperset"
# The [project.urls] labels taken as the home page, in order (core metadata normalizes labels to lower case
# without punctuation: "Home-Page" and "homepage" are the same label).
HOME_LABELS = ("homepage", "home", "source", "repository")


def _label(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def project_home(meta: Message | None = None) -> str | None:
    """The home page the installed metadata (or `meta`) names: a `Project-URL` labelled as in
    HOME_LABELS, else the older `Home-page` field; only an http(s) URL; None when there is none."""
    if meta is None:
        try:
            meta = metadata(DISTRIBUTION)  # type: ignore[assignment]
        except PackageNotFoundError:
            return None
    assert meta is not None
    urls: dict[str, str] = {}
    for entry in meta.get_all("Project-URL") or []:
        label, _, url = str(entry).partition(",")
        urls.setdefault(_label(label), url.strip())
    for candidate in [*(urls.get(label) for label in HOME_LABELS), meta.get("Home-page")]:
        if candidate and str(candidate).strip().startswith(("https://", "http://")):
            return str(candidate).strip()
    return None
