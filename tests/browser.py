"""Headless Chromium for the tests: find it, and drive it over the DevTools protocol.

:class:`DevTools` starts the browser with ``--remote-debugging-pipe`` (the protocol's JSON
messages, each ended by a NUL byte, on file descriptors 3 and 4), so it needs nothing but the
standard library: no websocket client, no browser download.
"""

from __future__ import annotations

import fcntl
import json
import os
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
BROWSER_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync")


def find_browser() -> str | None:
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def require_browser() -> str:
    """The browser's path; without one the test skips, except in CI (``CI`` set), where it
    fails: CI installs Chromium, so a missing browser there is a broken setup."""
    browser = find_browser()
    if browser is None:
        message = (f"no headless browser found on PATH (looked for {', '.join(BROWSERS)}); "
                   "install one, e.g. apt-get install chromium")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return browser


class DevTools:
    """One headless Chromium process and one page in it, driven over the DevTools protocol.

    ``events`` collects every event the page's session sends (console messages, exceptions,
    log entries, network requests) once :meth:`open` has enabled those domains.
    """

    def __init__(self, browser: str, profile: Path, width: int = 1280, height: int = 900):
        to_browser_read, self._to_browser = os.pipe()
        self._from_browser, from_browser_write = os.pipe()

        def connect_pipes() -> None:  # in the child, before exec: fds 3 (in) and 4 (out)
            high_in = fcntl.fcntl(to_browser_read, fcntl.F_DUPFD, 10)
            high_out = fcntl.fcntl(from_browser_write, fcntl.F_DUPFD, 10)
            os.dup2(high_in, 3)
            os.dup2(high_out, 4)

        self.log = Path(f"{profile}.log")
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [browser, *BROWSER_FLAGS, "--remote-debugging-pipe",
                 f"--user-data-dir={profile}", f"--window-size={width},{height}", "about:blank"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, close_fds=False,
                preexec_fn=connect_pipes)
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._messages: queue.Queue = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._next_id = 0
        self.session: str | None = None
        self.events: list[dict[str, Any]] = []

    def _read(self) -> None:
        buffer = b""
        while chunk := os.read(self._from_browser, 1 << 16):
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for message in messages:
                self._messages.put(json.loads(message))
        os.close(self._from_browser)
        self._messages.put(None)

    def call(self, method: str, params: dict | None = None, timeout: float = 30,
             session: bool = True) -> dict[str, Any]:
        """Send one command (to the page's session unless ``session`` is False) and return
        its result; events that arrive meanwhile go to ``events``."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session and self.session is not None:
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._receive(deadline, method)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method} failed: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def _receive(self, deadline: float, waiting_for: str) -> dict[str, Any]:
        try:
            reply = self._messages.get(timeout=max(deadline - time.monotonic(), 0.01))
        except queue.Empty:
            raise TimeoutError(f"no answer from the browser while waiting for {waiting_for}")
        if reply is None:
            raise RuntimeError(f"the browser exited while waiting for {waiting_for}: "
                               f"{self.log.read_text(errors='replace')[-2000:]}")
        return reply

    def wait_for(self, event: str, timeout: float = 30) -> dict[str, Any]:
        """Wait for the page's next ``event`` (one already in ``events`` counts)."""
        deadline = time.monotonic() + timeout
        while True:
            for seen in self.events:
                if seen["method"] == event and not seen.get("_consumed"):
                    seen["_consumed"] = True
                    return seen
            reply = self._receive(deadline, event)
            if "method" in reply:
                self.events.append(reply)

    def open(self, url: str) -> None:
        """Open a page, record its console, errors and requests, load ``url`` and wait for
        its load event."""
        target = self.call("Target.createTarget", {"url": "about:blank"}, session=False)
        attached = self.call("Target.attachToTarget",
                             {"targetId": target["targetId"], "flatten": True}, session=False)
        self.session = attached["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")
        self.call("Page.navigate", {"url": url})
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str, timeout: float = 30) -> Any:
        """The value of a JavaScript expression in the page (promises are awaited)."""
        result = self.call("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                "returnByValue": True}, timeout=timeout)
        if "exceptionDetails" in result:
            raise RuntimeError(f"the page's script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def console_errors(self) -> list[str]:
        """Uncaught exceptions, console.error/assert calls and error log entries so far."""
        errors = []
        for event in self.events:
            params = event.get("params", {})
            if event["method"] == "Runtime.exceptionThrown":
                errors.append(json.dumps(params["exceptionDetails"])[:500])
            elif (event["method"] == "Runtime.consoleAPICalled"
                  and params["type"] in ("error", "assert")):
                errors.append(json.dumps(params["args"])[:500])
            elif event["method"] == "Log.entryAdded" and params["entry"]["level"] == "error":
                errors.append(params["entry"]["text"])
        return errors

    def requested_urls(self) -> list[str]:
        """The URL of every request the page made so far."""
        return [event["params"]["request"]["url"] for event in self.events
                if event["method"] == "Network.requestWillBeSent"]

    def close(self) -> None:
        try:
            self.call("Browser.close", session=False, timeout=10)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
