"""A headless Chromium driven over the DevTools protocol on a pipe (no port, no extra package).

    with Browser() as browser:          # Browser.binary() is None where no chromium is installed
        browser.open("file:///.../report.html")
        browser.evaluate("document.title"); browser.mouse("click", x, y); browser.screenshot(path)
        browser.errors                  # console errors, uncaught exceptions and failed loads seen so far

`python -m tests.browser REPORT.html OUT.png` screenshots a report after clicking its first phase
diagram's middle cell (the README's gallery picture).
"""
from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--remote-debugging-pipe")


class Browser:
    def __init__(self, width: int = 1500, height: int = 1000, timeout: float = 60.0):
        self.timeout, self.errors, self._events, self._next_id, self._buffer = timeout, [], [], 0, b""
        self._profile = tempfile.TemporaryDirectory(prefix="chromium-")
        to_child, self._write = os.pipe()
        self._read, from_child = os.pipe()
        # The protocol pipe is fds 3 (commands in) and 4 (replies out) in chromium; bash puts them there (from
        # fds >= 10, so that moving one cannot close the other; no preexec_fn, which forks the JAX-threaded test).
        moved = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_child, from_child)]
        for fd in (to_child, from_child):
            os.close(fd)
        to_child, from_child = moved
        redirect = f'exec "$0" "$@" 3<&{to_child} 4>&{from_child} {to_child}<&- {from_child}>&-'
        self.process = subprocess.Popen(["bash", "-c", redirect, self.binary(), *FLAGS, f"--user-data-dir={self._profile.name}",
                                         "about:blank"], pass_fds=(to_child, from_child), stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child)
        os.close(from_child)
        target = self._send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self._send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for method in ("Runtime.enable", "Log.enable", "Page.enable"):
            self.send(method)
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})

    @staticmethod
    def binary() -> str | None:
        return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._write)
        os.close(self._read)
        self._profile.cleanup()

    def _message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._read], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(self._read, 1 << 20) if ready else b""
            if not chunk:
                raise TimeoutError("chromium sent nothing" if not ready else "chromium closed the pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def _record(self, message: dict) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            self.errors.append("console: " + " ".join(str(a.get("value", a.get("description"))) for a in params["args"]))
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.errors.append("exception: " + details.get("exception", {}).get("description", details["text"]))
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            self.errors.append(f"log: {params['entry']['text']} {params['entry'].get('url', '')}")
        self._events.append(message)

    def _send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._next_id += 1
        command = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            command["sessionId"] = session
        os.write(self._write, json.dumps(command).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            message = self._message(deadline)
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]
            self._record(message)

    def send(self, method: str, params: dict | None = None) -> dict:
        """A DevTools protocol command to the page."""
        return self._send(method, params, self._session)

    def open(self, url: str) -> None:
        """Navigate and wait for the load event."""
        self._events.clear()
        self.send("Page.navigate", {"url": url})
        deadline = time.monotonic() + self.timeout
        while not any(e.get("method") == "Page.loadEventFired" for e in self._events):
            self._record(self._message(deadline))

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 20.0):
        """Poll a JavaScript expression until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        while not (value := self.evaluate(expression)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"still false after {timeout:g} s: {expression}")
            time.sleep(0.1)
        return value

    def mouse(self, action: str, x: float, y: float) -> None:
        """'move' the mouse to viewport (x, y), or 'click' there with the left button."""
        self.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y})
        if action == "click":
            for kind in ("mousePressed", "mouseReleased"):
                self.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1})

    def screenshot(self, path) -> None:
        Path(path).write_bytes(base64.b64decode(self.send("Page.captureScreenshot", {"format": "png"})["data"]))


# Viewport position of the centre of a phase cell (density, relative) in the first panel of a plotly phase diagram.
CELL_POINT = """(() => {{
  const gd = document.getElementById({div!r}); gd.scrollIntoView();
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, box = gd.getBoundingClientRect();
  return [box.left + xa._offset + xa.c2p({density}), box.top + ya._offset + ya.c2p({relative})];
}})()"""


def main(argv=None) -> int:
    report, out = (argv or sys.argv[1:])[:2]
    with Browser(width=1500, height=560) as browser:
        browser.open(Path(report).resolve().as_uri())
        browser.wait_for("document.querySelector('.js-plotly-plot .heatmaplayer image') !== null")
        cells = browser.evaluate("REPORT.groups[0].phase[0].figure.data[0].customdata.flat().filter(c => c)"
                                 ".map(c => [c[0], c[1]])")
        density, relative = cells[len(cells) // 2]
        x, y = browser.evaluate(CELL_POINT.format(div="phase-0-0", density=density, relative=relative))
        browser.mouse("click", x, y)
        browser.wait_for("document.querySelector('.side .model .main-svg') !== null")
        browser.mouse("move", x, y)
        time.sleep(0.5)
        browser.screenshot(out)
        print("\n".join(browser.errors) or "no console errors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
