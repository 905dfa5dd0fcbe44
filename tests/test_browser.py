"""The published pages in a real browser: headless Chromium driven over the DevTools protocol.

Each page is opened from file:// and from a sub-path of a local web server; the test fails on
any console error, uncaught exception, failed request or request to anywhere else, and takes
a full-page screenshot (kept in REPORT_SCREENSHOTS_DIR when set, else in the test's tmp dir).
The browser (fixture `browser`, tests/conftest.py) and its client are in tests/chromium.py.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from pathlib import Path

import pytest

from chromium import DevTools, open_tab, screenshot

pytestmark = pytest.mark.slow


def visit(browser: DevTools, url: str, allowed_origin: str, shot: Path) -> list[str]:
    """Open url in a fresh tab, wait for load, return every problem seen; save a screenshot."""
    with open_tab(browser, url) as (session, start):
        browser.drain(0.8)
        problems = []
        for ev in browser.events[start:]:
            if ev.get("sessionId") != session:
                continue
            method, p = ev.get("method"), ev.get("params", {})
            if method == "Runtime.exceptionThrown":
                problems.append(f"exception: {p.get('exceptionDetails', {}).get('text')}")
            elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert", "warning"):
                problems.append(f"console {p.get('type')}: {[a.get('value') for a in p.get('args', [])]}")
            elif method == "Log.entryAdded" and p.get("entry", {}).get("level") in ("error", "warning"):
                problems.append(f"log {p['entry']['level']}: {p['entry'].get('text')} {p['entry'].get('url', '')}")
            elif method == "Network.loadingFailed":
                problems.append(f"failed request: {p.get('errorText')} {p.get('blockedReason', '')}")
            elif method == "Network.requestWillBeSent":
                req = p.get("request", {}).get("url", "")
                if not (req.startswith(("data:", "about:")) or req.startswith(allowed_origin)):
                    problems.append(f"request outside the site: {req}")
            elif method == "Network.responseReceived":
                status = p.get("response", {}).get("status", 200)
                if status and int(status) >= 400:
                    problems.append(f"HTTP {status}: {p['response'].get('url')}")
        screenshot(browser, session, shot)
        dom = browser.evaluate("document.title + '|' + document.images.length + '|' +"
                               " Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).length",
                               session)
        title, n_images, broken = dom.split("|")
        if int(broken):
            problems.append(f"{broken} of {n_images} images did not render")
        if not title:
            problems.append("empty title")
    return problems


@pytest.fixture(scope="module")
def site_root(crafted_site) -> Path:
    return crafted_site  # built once per run (conftest), read only


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    keep = os.environ.get("REPORT_SCREENSHOTS_DIR")
    folder = Path(keep) if keep else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


PAGES = ["index.html", "2026/index.html", "2026/schools/004.html", "2026/schools/009.html", "2025/index.html"]


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_cleanly_from_file(browser, site_root, shots, page):
    url = (site_root / page).resolve().as_uri()
    shot = shots / ("file-" + page.replace("/", "_").replace(".html", ".png"))
    assert visit(browser, url, "file://", shot) == []
    assert shot.stat().st_size > 10_000


@pytest.fixture(scope="module")
def server(site_root, tmp_path_factory):
    """The site under a sub-path of a web server: http://127.0.0.1:<port>/dept/monitoring/"""
    docroot = tmp_path_factory.mktemp("docroot")
    from pipeline.report import site

    site.publish(site_root, docroot / "dept" / "monitoring")
    handler = functools.partial(_QuietHandler, directory=str(docroot))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/dept/monitoring/"
    finally:
        httpd.shutdown()
        httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # noqa: D401 - keep the test output clean
        pass


@pytest.mark.parametrize("page", ["index.html", "2026/index.html", "2026/schools/004.html"])
def test_page_renders_cleanly_from_a_web_server_sub_path(browser, server, shots, page):
    origin = server.split("/dept/")[0]
    shot = shots / ("http-" + page.replace("/", "_").replace(".html", ".png"))
    assert visit(browser, server + page, origin + "/dept/monitoring/", shot) == []


def test_the_check_sees_errors_and_outside_requests(browser, tmp_path):
    """A control: a page that loads from outside, misses a file and logs an error is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><head><title>x</title></head><body>'
                   '<img src="missing.png"><img src="https://example.invalid/x.png">'
                   '<script>console.error("сломано")</script></body></html>', encoding="utf-8")
    problems = visit(browser, bad.as_uri(), "file://", tmp_path / "bad.png")
    text = "\n".join(problems)
    assert "сломано" in text
    assert "example.invalid" in text
    assert "missing.png" in text or "failed request" in text
