"""Drive Debian's chromium with Playwright against an app served on loopback.

Import from tests, e.g.::

    from browser import ARTIFACTS, served_page

    with served_page(app) as (base, page, requests, errors):
        page.goto(base)
        page.screenshot(path=ARTIFACTS / "home.png")
        assert errors == []

(logged_in_page does the same after logging in through the real form.)

Playwright's own browser downloads (`playwright install`) are never used: this
machine reaches no download site, and Debian's chromium is what CI has.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from werkzeug.serving import make_server

if TYPE_CHECKING:
    from flask import Flask
    from playwright.sync_api import Browser, Page, Playwright

CHROMIUM = "/usr/bin/chromium"

#: Where browser tests leave screenshots; git-ignored.
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

# The network is closed: without the background-networking flags chromium keeps
# opening connections that are refused, and as root it needs --no-sandbox.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch_browser(playwright: Playwright) -> Browser:
    """Start headless Debian chromium; the caller closes it (or leaves Playwright to)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


@contextmanager
def live_server(app: Flask) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 at a free port in a thread; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def log_in_page(page: Page, base: str, username: str, password: str) -> None:
    """Log in through the real form, as a person would, and wait for the home page."""
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("main button[type=submit]")  # not the header's search button
    page.wait_for_url(f"{base}/")


@contextmanager
def served_page(app: Flask, *, width: int = 1280, height: int = 900,
                ) -> Iterator[tuple[str, Page, list[str], list[str]]]:
    """`app` on loopback and a chromium page: (base URL, page, every URL the page asked for, its
    console errors and uncaught exceptions)."""
    from playwright.sync_api import sync_playwright
    with live_server(app) as base, sync_playwright() as playwright:
        browser = launch_browser(playwright)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            requests: list[str] = []
            errors: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            yield base, page, requests, errors
        finally:
            browser.close()


@contextmanager
def logged_in_page(app: Flask, username: str, password: str, *, width: int = 1280,
                   height: int = 1000) -> Iterator[tuple[str, Page, list[str]]]:
    """served_page logged in as `username`: (base URL, page, console errors)."""
    with served_page(app, width=width, height=height) as (base, page, _, errors):
        log_in_page(page, base, username, password)
        yield base, page, errors


def wait_until(page: Page, expression: str, timeout: float = 30_000) -> Any:
    """Poll `expression` (JavaScript: an expression or a function) until it is truthy; return it.

    Not Playwright's `page.wait_for_function`: while it polls, it evaluates the expression with
    `eval` inside the page, which our Content-Security-Policy (script-src 'self') refuses, so it
    fails whenever the condition is not already true at the first try.
    """
    deadline = time.monotonic() + timeout / 1000
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout / 1000:g} s: {expression}")
        time.sleep(0.05)


#: axe-core from node_modules (a devDependency; `npm ci` installs it).
AXE_SOURCE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"

#: What the pages are held to: WCAG 2.2 A and AA, axe's best practices, and its experimental rules.
#: wcag21a too: in axe 4.14 `label-content-name-mismatch` (WCAG 2.5.3, level A of 2.1) carries that tag,
#: no longer "experimental", and the other tags would leave it out.
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice", "experimental")


def axe_violations(page: Page, context: str | None = None) -> list[dict[str, Any]]:
    """Run axe-core on the page (or the element `context` selects): its violations, each with its
    rule id, help text and the nodes it found.

    axe is evaluated as source rather than added as a <script>: the Content-Security-Policy
    (script-src 'self') refuses inline and injected scripts, not what the test runs itself.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE.read_text(encoding="utf-8"))
    return page.evaluate(
        """([context, tags]) => axe.run(context ? document.querySelector(context) : document,
                                     {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})
            .then(results => results.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))})))""",
        [context, list(AXE_TAGS)])


def assert_accessible(page: Page, context: str | None = None) -> None:
    """No axe-core violation on the page; the message lists each rule and where it failed."""
    violations = axe_violations(page, context)
    lines = [f"{page.url}: {v['id']} ({v['impact']}): {v['help']}\n"
             + "\n".join(f"    {n['target']}: {n['summary']}" for n in v["nodes"]) for v in violations]
    assert violations == [], "axe-core found:\n" + "\n".join(lines)
