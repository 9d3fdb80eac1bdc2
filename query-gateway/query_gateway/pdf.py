"""HTML to PDF with the Debian Chromium, without the document ever touching the disk.

`render_pdf(html)` starts ``chromium --headless --remote-debugging-pipe`` and speaks the
DevTools protocol over the two pipes Chromium reads and writes (file descriptors 3 and 4,
set up with ``posix_spawn``'s dup2 actions, safe in a threaded server): it opens a blank
page, sets the document's content, waits for its fonts and prints it
(``Page.printToPDF``). The report is never written to a file in plaintext, Chromium's
profile is a fresh private directory removed afterwards, and the page loads nothing from
anywhere (the HTML is self-contained). A missing or failing Chromium is `PdfUnavailable`,
which the edge answers 503.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import signal
import tempfile
import time
from typing import Any

CHROMIUM = ("/usr/bin/chromium", "chromium", "chromium-browser")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
         "--no-first-run", "--disable-extensions", "--disable-background-networking",
         "--disable-sync", "--disable-component-update", "--mute-audio")  # fmt: skip
TIMEOUT = 60.0


class PdfUnavailable(Exception):
    """Chromium is not installed, or did not produce the PDF."""


def chromium() -> str:
    """The Chromium executable, or `PdfUnavailable`."""
    for name in CHROMIUM:
        found = shutil.which(name)
        if found:
            return found
    raise PdfUnavailable("chromium not installed")


def render_pdf(html: str) -> bytes:
    """``html`` (self-contained) printed to PDF by headless Chromium (A4, backgrounds on)."""
    exe = chromium()
    profile = tempfile.mkdtemp(prefix="dexin-pdf-")
    to_chrome, from_chrome = os.pipe(), os.pipe()
    try:
        pid = _spawn(exe, profile, to_chrome[0], from_chrome[1])
    finally:
        os.close(to_chrome[0])
        os.close(from_chrome[1])
    session = _Pipe(to_chrome[1], from_chrome[0], time.monotonic() + TIMEOUT)
    try:
        return _print(session, html)
    finally:
        session.close()
        _reap(pid)
        shutil.rmtree(profile, ignore_errors=True)


def _spawn(exe: str, profile: str, read_fd: int, write_fd: int) -> int:
    null = os.open(os.devnull, os.O_RDWR)
    try:
        actions = [(os.POSIX_SPAWN_DUP2, read_fd, 3), (os.POSIX_SPAWN_DUP2, write_fd, 4),
                   (os.POSIX_SPAWN_DUP2, null, 0), (os.POSIX_SPAWN_DUP2, null, 1),
                   (os.POSIX_SPAWN_DUP2, null, 2)]  # fmt: skip
        argv = [exe, *FLAGS, f"--user-data-dir={profile}", "about:blank"]
        return os.posix_spawn(exe, argv, dict(os.environ), file_actions=actions)
    except OSError as exc:
        raise PdfUnavailable(type(exc).__name__) from None
    finally:
        os.close(null)


def _reap(pid: int) -> None:
    """Wait for Chromium to exit after ``Browser.close``; kill it if it lingers."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def _print(session: _Pipe, html: str) -> bytes:
    target = session.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    sid = session.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    frame = session.call("Page.getFrameTree", {}, sid)["frameTree"]["frame"]["id"]
    session.call("Page.setDocumentContent", {"frameId": frame, "html": html}, sid)
    session.call("Runtime.evaluate", {"expression": "document.fonts.ready.then(() => true)",
                                      "awaitPromise": True}, sid)  # fmt: skip
    printed = session.call("Page.printToPDF", {"printBackground": True, "preferCSSPageSize": True,
                                               "paperWidth": 8.27, "paperHeight": 11.69}, sid)  # fmt: skip
    session.send("Browser.close", {})
    pdf = base64.b64decode(printed["data"])
    if not pdf.startswith(b"%PDF-"):
        raise PdfUnavailable("not a PDF")
    return pdf


class _Pipe:
    """One DevTools connection over Chromium's pipes: NUL-separated JSON messages."""

    def __init__(self, write_fd: int, read_fd: int, deadline: float) -> None:
        self._out = os.fdopen(write_fd, "wb", buffering=0)
        self._in = os.fdopen(read_fd, "rb", buffering=0)
        self._deadline = deadline
        self._buffer = b""
        self._next = 0

    def send(self, method: str, params: dict[str, Any], session: str | None = None) -> int:
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        try:
            self._out.write(json.dumps(message).encode() + b"\0")
        except OSError as exc:
            raise PdfUnavailable(type(exc).__name__) from None
        return self._next

    def call(self, method: str, params: dict[str, Any], session: str | None = None) -> Any:
        wanted = self.send(method, params, session)
        while True:
            reply = self._message()
            if reply.get("id") == wanted:
                if "error" in reply:
                    raise PdfUnavailable(f"{method} failed")
                return reply.get("result", {})

    def _message(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = self._deadline - time.monotonic()
            if left <= 0 or not select.select([self._in], [], [], left)[0]:
                raise PdfUnavailable("timeout")
            chunk = self._in.read(1 << 16)
            if not chunk:
                raise PdfUnavailable("chromium closed the pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        parsed = json.loads(raw)
        return parsed if isinstance(parsed, dict) else {}

    def close(self) -> None:
        for f in (self._out, self._in):
            with contextlib.suppress(OSError):
                f.close()


__all__ = ["PdfUnavailable", "chromium", "render_pdf"]
