"""Headless Chromium driven over the DevTools protocol, shared by the browser tests
(tests/test_browser.py: pages render cleanly; tests/test_accessibility.py: axe-core finds no
violations). The fixtures `chromium` and `browser` (one browser per test session) are in
tests/conftest.py; this module holds the client and how to open a page in a fresh tab.

Chromium comes from Debian (`apt-get install chromium`); the set-up installs it when it is
missing and the tests run as root. Under CI=true a missing browser is a failure, never a skip.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
    "--no-default-browser-check", "--disable-dev-shm-usage", "--remote-allow-origins=*",
]


def skip_or_fail(message: str) -> None:
    """A missing tool: a visible skip, but a failure under CI=true (CI must run every check)."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def find_chromium() -> str | None:
    for path in CHROMIUM_CANDIDATES:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("chromium")


def install_chromium() -> None:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], env=env, check=False, capture_output=True, timeout=600)
    subprocess.run(["apt-get", "install", "-y", "-qq", "chromium", "fonts-dejavu-core"], env=env, check=False,
                   capture_output=True, timeout=1200)


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

    def wait_for(self, method: str, session: str, timeout: float = 60, *, since: int = 0) -> dict:
        """The first event `method` of the session received at index `since` or later."""
        deadline = time.monotonic() + timeout
        for ev in self.events[since:]:
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

    def evaluate(self, expression: str, session: str, *, timeout: float = 120) -> object:
        """The value of a JavaScript expression in the page (awaited when it is a promise)."""
        reply = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True},
                          session=session, timeout=timeout)
        if "exceptionDetails" in reply:
            raise RuntimeError(f"JavaScript: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:  # noqa: BLE001
            pass


@contextmanager
def launch(chromium: str) -> Iterator[DevTools]:
    """Start headless Chromium with a throw-away profile; yield its DevTools client; stop it."""
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
            shutil.rmtree(profile, ignore_errors=True)
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


@contextmanager
def open_tab(browser: DevTools, url: str, *, width: int = 1280, height: int = 900) -> Iterator[tuple[str, int]]:
    """Open url in a fresh tab at the given viewport and wait for its load event; yield the
    session id and the index of the tab's first event in browser.events; close the tab."""
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    start = len(browser.events)
    try:
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(f"{domain}.enable", session=session)
        browser.send("Emulation.setDeviceMetricsOverride",
                     {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=session)
        browser.send("Page.navigate", {"url": url}, session=session)
        browser.wait_for("Page.loadEventFired", session)
        yield session, start
    finally:
        browser.send("Target.closeTarget", {"targetId": target})


class Tab:
    """One tab kept open and navigated from page to page, for the checks that look only at the
    loaded page (axe-core, printing, layout), not at the events of its loading: a fresh tab per
    page starts a renderer process each time, which took twice the CPU of loading the page in
    the open tab (measured on the school pages, printed: 0.73 s against 0.38 s a page)."""

    def __init__(self, browser: DevTools) -> None:
        self.browser = browser
        self.target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = browser.send("Target.attachToTarget", {"targetId": self.target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime"):
            browser.send(f"{domain}.enable", session=self.session)

    def load(self, url: str, *, width: int = 1280, height: int = 900, media: str = "") -> str:
        """Open url at the given viewport and CSS media ("" = screen) and wait for its load
        event; the previous page's settings do not carry over. Returns the session id."""
        b, session = self.browser, self.session
        b.send("Emulation.setEmulatedMedia", {"media": media}, session=session)
        b.send("Emulation.setDeviceMetricsOverride",
               {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=session)
        start = len(b.events)
        b.send("Page.navigate", {"url": url}, session=session)
        b.wait_for("Page.loadEventFired", session, since=start)
        return session

    def close(self) -> None:
        self.browser.send("Target.closeTarget", {"targetId": self.target})


def screenshot(browser: DevTools, session: str, shot: Path, *, width: int = 1280) -> None:
    """A full-page PNG of the tab (at most 30,000 px high) written to shot."""
    import base64

    metrics = browser.send("Page.getLayoutMetrics", session=session)
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    height = min(int(size["height"]), 30000)
    png = browser.send("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}}, session=session)["data"]
    shot.parent.mkdir(parents=True, exist_ok=True)
    shot.write_bytes(base64.b64decode(png))
