"""Headless Chromium driven over the DevTools protocol, for pages that need a click (Airflow's trigger form).

``--screenshot``/``--dump-dom`` (as the report test uses) cannot open a modal; here the page is loaded,
a button clicked and the DOM read through ``Runtime.evaluate``, all over one websocket (``websockets``,
installed with Airflow). Chromium runs in its own process group with a throwaway profile.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

from tests.airflow.airflow_stack import free_port


class Browser:
    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self._ids = itertools.count(1)

    def send(self, method: str, **params: Any) -> dict:
        message_id = next(self._ids)
        self.socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:  # events arrive in between; the answer carries our id
            message = json.loads(self.socket.recv(timeout=60))
            if message.get("id") == message_id:
                assert "error" not in message, f"{method}: {message['error']}"
                return message["result"]

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def wait_for(self, what: str, expression: str, timeout: float = 60) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            assert time.monotonic() < deadline, f"timed out after {timeout:.0f} s waiting for {what}"
            time.sleep(0.5)

    def click(self, x: float, y: float) -> None:
        """A real mouse click (react-select opens its menu on mousedown, not on a synthetic click())."""
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def screenshot(self, path: Path) -> None:
        path.write_bytes(base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"]))


@contextlib.contextmanager
def chromium_page(chromium: Path, profile: Path, url: str, size: tuple[int, int] = (1280, 1400)) -> Iterator[Browser]:
    port = free_port()
    process = subprocess.Popen(
        [
            str(chromium), "--headless=new", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
            "--no-first-run", "--disable-extensions", "--hide-scrollbars", "--force-device-scale-factor=1",
            f"--window-size={size[0]},{size[1]}", f"--remote-debugging-port={port}", "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=5) as response:
                    pages = [t for t in json.load(response) if t["type"] == "page"]
                if pages:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline and process.poll() is None, "chromium did not start"
            time.sleep(0.5)
        with connect(pages[0]["webSocketDebuggerUrl"], max_size=None, open_timeout=30) as socket:
            browser = Browser(socket)
            browser.send("Page.enable")
            browser.send("Page.navigate", url=url)
            yield browser
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
