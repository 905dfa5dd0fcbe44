"""The published pages in a real browser: headless Chromium driven over the DevTools protocol.

Each page is opened from file:// and from a sub-path of a local web server; the test fails on
any console error, uncaught exception, failed request or request to anywhere else, and takes
a full-page screenshot (kept in REPORT_SCREENSHOTS_DIR when set, else in the test's tmp dir).

Chromium comes from Debian (`apt-get install chromium`); the set-up installs it when it is
missing and the tests run as root. Under CI=true a missing browser is a failure, never a skip.
"""

from __future__ import annotations

import base64
import functools
import http.server
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from report_data import build_site

pytestmark = pytest.mark.slow

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
    "--no-default-browser-check", "--disable-dev-shm-usage", "--remote-allow-origins=*",
]


def _find_chromium() -> str | None:
    for path in CHROMIUM_CANDIDATES:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("chromium")


def _install_chromium() -> None:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], env=env, check=False, capture_output=True, timeout=600)
    subprocess.run(["apt-get", "install", "-y", "-qq", "chromium", "fonts-dejavu-core"], env=env, check=False,
                   capture_output=True, timeout=1200)


@pytest.fixture(scope="session")
def chromium() -> str:
    path = _find_chromium()
    if path is None:
        _install_chromium()
        path = _find_chromium()
    if path is None:
        message = "Chromium не найден и не может быть установлен (apt-get install chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


# ---------------------------------------------------------------------------- DevTools client


class DevTools:
    """A minimal DevTools-protocol client over one websocket (flattened target sessions)."""

    def __init__(self, ws_url: str) -> None:
        import websocket  # websocket-client

        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.ids = itertools.count(1)
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 60) -> dict:
        msg_id = next(self.ids)
        msg = {"id": msg_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)
        raise TimeoutError(method)

    def wait_for(self, method: str, session: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        for ev in self.events:
            if ev.get("method") == method and ev.get("sessionId") == session:
                return ev
        while time.monotonic() < deadline:
            ev = json.loads(self.ws.recv())
            self.events.append(ev)
            if ev.get("method") == method and ev.get("sessionId") == session:
                return ev
        raise TimeoutError(method)

    def drain(self, seconds: float) -> None:
        self.ws.settimeout(0.2)
        end = time.monotonic() + seconds
        try:
            while time.monotonic() < end:
                try:
                    self.events.append(json.loads(self.ws.recv()))
                except Exception:  # noqa: BLE001 - websocket timeout: nothing more for now
                    continue
        finally:
            self.ws.settimeout(30)

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:  # noqa: BLE001
            pass


@pytest.fixture(scope="session")
def browser(chromium, tmp_path_factory):
    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    proc = subprocess.Popen(
        [chromium, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    port_file = Path(profile) / "DevToolsActivePort"
    deadline = time.monotonic() + 60
    while not (port_file.is_file() and len(port_file.read_text().split("\n")) >= 2):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("Chromium не запустился (нет DevToolsActivePort)")
        time.sleep(0.1)
    port, path = port_file.read_text().split("\n")[:2]
    client = DevTools(f"ws://127.0.0.1:{port}{path}")
    try:
        yield client
    finally:
        client.close()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)


def visit(browser: DevTools, url: str, allowed_origin: str, shot: Path) -> list[str]:
    """Open url in a fresh tab, wait for load, return every problem seen; save a screenshot."""
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    start = len(browser.events)
    for domain in ("Page", "Runtime", "Log", "Network"):
        browser.send(f"{domain}.enable", session=session)
    browser.send("Emulation.setDeviceMetricsOverride",
                 {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session=session)
    browser.send("Page.navigate", {"url": url}, session=session)
    browser.wait_for("Page.loadEventFired", session)
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
    metrics = browser.send("Page.getLayoutMetrics", session=session)
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    height = min(int(size["height"]), 30000)
    png = browser.send("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": 1280, "height": height, "scale": 1}}, session=session)["data"]
    shot.parent.mkdir(parents=True, exist_ok=True)
    shot.write_bytes(base64.b64decode(png))
    dom = browser.send("Runtime.evaluate", {"expression": "document.title + '|' + document.images.length + '|' +"
                                            " Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).length",
                                            "returnByValue": True}, session=session)["result"]["value"]
    title, n_images, broken = dom.split("|")
    if int(broken):
        problems.append(f"{broken} of {n_images} images did not render")
    if not title:
        problems.append("empty title")
    browser.send("Target.closeTarget", {"targetId": target})
    return problems


@pytest.fixture(scope="module")
def site_root(tmp_path_factory) -> Path:
    return build_site(tmp_path_factory.mktemp("browser-site"), hostile=True)


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
