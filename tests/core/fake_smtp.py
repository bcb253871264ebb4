"""A local fake SMTP relay for the mail tests: it keeps what it receives and can be held ("slow") or absent ("down")."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email import message_from_string, policy

from flask import Flask

#: Upper bound for waiting on another thread; only a broken test ever waits this long (nothing is timed).
PATIENCE = 30


class _Handler(socketserver.StreamRequestHandler):
    """Just enough SMTP to accept messages and keep their text; waits at ``gate`` before greeting."""

    def handle(self) -> None:
        relay: FakeSMTP = self.server.relay  # type: ignore[attr-defined]
        relay.arrived.release()
        if not relay.gate.wait(PATIENCE):
            return
        self.wfile.write(b"220 fake\r\n")
        data_mode, lines = False, []
        for raw in self.rfile:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if data_mode:
                if line == ".":
                    data_mode = False
                    relay.received("\n".join(lines))
                    lines = []
                    self.wfile.write(b"250 ok\r\n")
                else:
                    lines.append(line[1:] if line.startswith("..") else line)
                continue
            verb = line[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.wfile.write(b"250 fake\r\n")
            elif verb == "DATA":
                data_mode = True
                self.wfile.write(b"354 go\r\n")
            elif verb == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class FakeSMTP:
    """The messages received, as "To: …\\nSubject: …\\n\\nbody" with the headers decoded.

    ``gate``: cleared, every connection waits before the server's greeting (a slow relay) until it is set.
    ``arrived``: released once per connection, so a test can wait until a sender is talking to the relay.
    ``on_message``: called with each message as it arrives, before the sender gets its reply.
    """

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.gate = threading.Event()
        self.gate.set()
        self.arrived = threading.Semaphore(0)
        self.on_message: Callable[[str], None] | None = None
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.relay = self  # type: ignore[attr-defined]

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def received(self, raw: str) -> None:
        parsed = message_from_string(raw, policy=policy.default)
        message = f"To: {parsed['To']}\nSubject: {parsed['Subject']}\n\n{parsed.get_content()}"
        if self.on_message is not None:
            self.on_message(message)
        with self._lock:
            self.messages.append(message)

    def wait_for_connections(self, count: int) -> None:
        """Block until ``count`` more senders have connected (they are then held at the gate if it is closed)."""
        for _ in range(count):
            assert self.arrived.acquire(timeout=PATIENCE), "no sender connected"

    @contextmanager
    def running(self, app: Flask) -> Iterator[FakeSMTP]:
        """Serve and point ``app`` at this relay; afterwards no SMTP host is configured again."""
        thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        app.config.update(SENIM_SMTP_HOST="127.0.0.1", SENIM_SMTP_PORT=self.port)
        try:
            yield self
        finally:
            self.gate.set()
            app.config.update(SENIM_SMTP_HOST="", SENIM_SMTP_PORT=25)
            self._server.shutdown()
            self._server.server_close()


def closed_port() -> int:
    """A local port on which nothing listens: connecting is refused at once (an SMTP server that is down)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_down(app: Flask) -> Iterator[None]:
    """Point ``app`` at a port on which no SMTP server listens; then back at what it was configured with."""
    before = {key: app.config[key] for key in ("SENIM_SMTP_HOST", "SENIM_SMTP_PORT")}
    app.config.update(SENIM_SMTP_HOST="127.0.0.1", SENIM_SMTP_PORT=closed_port())
    try:
        yield
    finally:
        app.config.update(before)
