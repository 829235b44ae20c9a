"""Browser configuration for scrapy-playwright: which Chromium, its flags, what to abort, and the
script that loads every result of an infinite-scroll or "load more" page."""

from __future__ import annotations

import os
import shutil
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Playwright is imported only when a browser starts (paperset/crawler/fetch/handler.py)
    from playwright.async_api import Request as PlaywrightRequest

# Hosts the browser may resolve: loopback (tests, the replica) and the site's own hosts. Everything
# else (Google's update and metrics hosts that Chromium calls on its own) resolves to nothing.
HOST_RULES = ("MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE huggingface.co, "
              "EXCLUDE *.huggingface.co, EXCLUDE hf.co, EXCLUDE *.hf.co")
CHROMIUM_ARGS = (
    f"--host-resolver-rules={HOST_RULES}",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
)
ABORTED_RESOURCES = frozenset({"image", "font", "media"})

# Scrolls to the bottom and clicks any "load more"/"show more" button until the page marks the list's
# end (`data-list-end`) and the cards stopped growing, or no card was added for `quietMs`; returns the
# card count. Time-based, so a slow answer under load does not end the list early.
LOAD_ALL_SCRIPT = """
async ({maxRounds, waitMs, quietMs}) => {
  const count = () => document.querySelectorAll('article').length;
  let last = -1, grewAt = Date.now();
  for (let round = 0; round < maxRounds; round++) {
    window.scrollTo(0, document.body.scrollHeight);
    for (const b of document.querySelectorAll('button')) {
      if (!b.hidden && !b.disabled && /load more|show more/i.test(b.textContent)) b.click();
    }
    await new Promise(r => setTimeout(r, waitMs));
    const now = count();
    if (now !== last) { last = now; grewAt = Date.now(); continue; }
    if (document.querySelector('[data-list-end]') || Date.now() - grewAt > quietMs) break;
  }
  return count();
}
"""


def chromium_executable() -> str | None:
    """`$PAPERSET_CHROMIUM`, else a `chromium` on the PATH, else None (Playwright's own browser,
    from `playwright install chromium`)."""
    configured = os.environ.get("PAPERSET_CHROMIUM")
    if configured:
        return configured
    return shutil.which("chromium") or shutil.which("chromium-browser")


def launch_options() -> dict[str, Any]:
    """PLAYWRIGHT_LAUNCH_OPTIONS: headless, the system Chromium when there is one, our flags."""
    options: dict[str, Any] = {"headless": True, "args": list(CHROMIUM_ARGS), "timeout": 30_000}
    executable = chromium_executable()
    if executable:
        options["executable_path"] = executable
    return options


def should_abort_request(request: PlaywrightRequest) -> bool:
    """PLAYWRIGHT_ABORT_REQUEST: images, fonts and media are never needed for extraction."""
    return request.resource_type in ABORTED_RESOURCES


class PageNotLoaded(OSError):
    """A page Chromium could not load: what `paperset fixture save --render` reports in one line."""


def render_page(url: str, *, max_rounds: int = 200, wait_ms: int = 150) -> tuple[str, dict[str, str]]:
    """The page's HTML after its scripts ran and every "load more" was loaded, and the response headers
    (for `paperset fixture save --render`).
    Raises PageNotLoaded when the page does not load (refused, timed out, an HTTP error status)."""
    from playwright.sync_api import Error, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**launch_options())
        try:
            page = browser.new_page()
            page.route("**/*", lambda route: route.abort() if should_abort_request(route.request)
                       else route.continue_())
            try:
                response = page.goto(url, wait_until="load")
                if response is not None and response.status >= 400:
                    raise PageNotLoaded(f"HTTP Error {response.status}: {response.status_text}")
                page.evaluate(LOAD_ALL_SCRIPT, {"maxRounds": max_rounds, "waitMs": wait_ms, "quietMs": 3000})
            except Error as exc:  # Playwright's message is its first line; the call log follows
                raise PageNotLoaded(str(exc.message).splitlines()[0]) from None
            headers = {k.lower(): v for k, v in (response.headers if response else {}).items()}
            return page.content(), headers
        finally:
            browser.close()
