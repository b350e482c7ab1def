"""A small Chrome DevTools Protocol client for the browser test: headless Debian Chromium,
driven over its DevTools websocket with tornado (installed with ipykernel, the book's kernel),
so no browser is downloaded and no new package is needed.
"""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

# The flags Debian Chromium needs on a machine with a closed network: no sandbox (root), no
# background connections to Google's services, a fresh profile.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars")


class Browser:
    """One headless Chromium with one page, and the network requests that page made."""

    def __init__(self, executable: str = "/usr/bin/chromium"):
        # Chromium's helper processes may still write to the profile for a moment after the
        # browser exits: a leftover folder in /tmp is no test failure
        self.profile = tempfile.TemporaryDirectory(prefix="chromium-profile-", ignore_cleanup_errors=True)
        self.process = subprocess.Popen(
            [executable, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile.name}", "--remote-debugging-port=0",
             "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = Path(self.profile.name) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Chromium ({executable}) did not open its DevTools port within 30 s")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        pages = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10))
        self.page_ws = next(p["webSocketDebuggerUrl"] for p in pages if p["type"] == "page")
        self.loop = asyncio.new_event_loop()
        self.connection = None
        self.next_id = 0
        self.events: list[dict] = []
        self.loop.run_until_complete(self._connect())

    async def _connect(self) -> None:
        from tornado.websocket import websocket_connect

        self.connection = await websocket_connect(self.page_ws, max_message_size=256 * 1024 * 1024)

    async def _send(self, method: str, params: dict | None = None) -> dict:
        self.next_id += 1
        message_id = self.next_id
        await self.connection.write_message(json.dumps({"id": message_id, "method": method, "params": params or {}}))
        while True:
            message = await self.connection.read_message()
            if message is None:
                raise RuntimeError(f"Chromium closed the DevTools connection during {method}")
            data = json.loads(message)
            if data.get("id") == message_id:
                if "error" in data:
                    raise RuntimeError(f"{method} failed: {data['error']}")
                return data.get("result", {})
            if "method" in data:
                self.events.append(data)

    async def _wait_for(self, event: str, timeout: float) -> None:
        if any(e["method"] == event for e in self.events):
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                message = await asyncio.wait_for(self.connection.read_message(), deadline - time.monotonic())
            except asyncio.TimeoutError:
                break
            data = json.loads(message)
            if "method" in data:
                self.events.append(data)
                if data["method"] == event:
                    return
        raise TimeoutError(f"no {event} within {timeout} s")

    def send(self, method: str, params: dict | None = None) -> dict:
        return self.loop.run_until_complete(self._send(method, params))

    def open(self, url: str, width: int = 1400, height: int = 1000, timeout: float = 60,
             color_scheme: str = "light") -> None:
        """Load ``url`` at a window ``width`` pixels wide, the system's colour scheme ``light``
        or ``dark`` (the book's theme follows it), and wait for its load event."""
        self.events.clear()
        self.send("Network.enable")
        self.send("Page.enable")
        self.send("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": color_scheme}]})
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
        self.send("Page.navigate", {"url": "about:blank"})  # so that reopening the same URL is seen as new
        self.loop.run_until_complete(self._wait_for("Page.loadEventFired", timeout))
        self.events.clear()
        self.send("Page.navigate", {"url": url})
        self.loop.run_until_complete(self._wait_for("Page.loadEventFired", timeout))
        # wait for this page's document (a redirect, as index.html's, may replace the URL)
        ready = self.evaluate(f"""(async () => {{
            for (let i = 0; i < {int(timeout * 10)}; i++) {{
              if (location.href !== 'about:blank' && document.readyState === 'complete' && document.body) return true;
              await new Promise(r => setTimeout(r, 100));
            }}
            return false; }})()""", timeout=timeout + 5)
        if not ready:
            raise TimeoutError(f"{url} did not finish loading within {timeout} s")

    def evaluate(self, expression: str, timeout: float = 30):
        """The JSON value of a JavaScript expression (promises awaited) in the page."""
        result = self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                "returnByValue": True, "timeout": int(timeout * 1000)})
        if "exceptionDetails" in result:
            raise RuntimeError(f"JavaScript failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def requested_urls(self) -> list[str]:
        """Every URL the page asked the network for since ``open``."""
        self.send("Runtime.evaluate", {"expression": "1"})  # collect the events still in flight
        return [e["params"]["request"]["url"] for e in self.events if e["method"] == "Network.requestWillBeSent"]

    def failed_requests(self) -> list[str]:
        urls = {e["params"]["requestId"]: e["params"]["request"]["url"]
                for e in self.events if e["method"] == "Network.requestWillBeSent"}
        return [f"{urls.get(e['params']['requestId'], '?')}: {e['params'].get('errorText')}"
                for e in self.events if e["method"] == "Network.loadingFailed"]

    def screenshot(self, path: Path, full_page: bool = True) -> Path:
        params = {"format": "png", "captureBeyondViewport": full_page}
        if full_page:
            size = self.send("Page.getLayoutMetrics")["cssContentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 8000), "scale": 1}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", params)["data"]))
        return path

    def close(self) -> None:
        try:
            if self.connection is not None:
                self.connection.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.loop.close()
            self.profile.cleanup()
