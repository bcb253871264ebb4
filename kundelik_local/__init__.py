"""A local Kundelik for tests and the demo: the documented OAuth2 flow and API, with the demo's people.

Senim's Kundelik client cannot tell it from the real service: only the configured addresses differ
(``SENIM_KUNDELIK_OAUTH_URL``, ``SENIM_KUNDELIK_TOKEN_URL``, ``SENIM_KUNDELIK_API_URL``). Run it with
``python -m kundelik_local`` (see ``--help``), or in a test with :func:`running`. It binds to 127.0.0.1 only.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from kundelik_local.server import LocalKundelik, create_server

__all__ = ["LocalKundelik", "Running", "create_server", "running"]

HOST = "127.0.0.1"


@dataclass
class Running:
    """A local Kundelik serving in a background thread."""

    local: LocalKundelik
    server: BaseWSGIServer

    @property
    def url(self) -> str:
        """Base address, e.g. ``http://127.0.0.1:40123``."""
        return f"http://{HOST}:{self.server.server_port}"

    def senim_config(self) -> dict[str, str]:
        """Senim settings that point its Kundelik client here."""
        return {"SENIM_KUNDELIK_OAUTH_URL": f"{self.url}/oauth2",
                "SENIM_KUNDELIK_TOKEN_URL": f"{self.url}/v2.0/authorizations",
                "SENIM_KUNDELIK_API_URL": f"{self.url}/v2/",
                "SENIM_KUNDELIK_CLIENT_ID": self.local.client_id,
                "SENIM_KUNDELIK_CLIENT_SECRET": self.local.client_secret}


class _QuietHandler(WSGIRequestHandler):
    """No access log: a test's output stays readable (and addresses with codes are not printed)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@contextmanager
def running(local: LocalKundelik, *, port: int = 0) -> Iterator[Running]:
    """Serve ``local`` on 127.0.0.1 (a free port unless ``port``) in a thread until the block ends."""
    server = make_server(HOST, port, create_server(local), threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="kundelik-local", daemon=True)
    thread.start()
    try:
        yield Running(local, server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
