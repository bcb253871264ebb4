"""``python -m kundelik_local``: serve the local Kundelik on 127.0.0.1 for trying "Sign in with Kundelik"."""

from __future__ import annotations

import argparse

from werkzeug.serving import run_simple

from kundelik_local import HOST
from kundelik_local.server import LocalKundelik, create_server

#: The local server's demo client; `make run-kundelik` gives Senim the same values. Not a secret: it only
#: opens this local test server, which the real Kundelik never accepts.
DEMO_CLIENT_ID = "senim-local"
DEMO_CLIENT_SECRET = "insecure-kundelik-local-secret"  # noqa: S105  (a published value of the local test server)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m kundelik_local", description=__doc__)
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument("--client-id", default=DEMO_CLIENT_ID)
    parser.add_argument("--client-secret", default=DEMO_CLIENT_SECRET)
    parser.add_argument("--redirect-uri", action="append",
                        help="registered redirect address (repeatable); default: Senim's on 127.0.0.1:5000")
    parser.add_argument("--expires-in", type=int, default=86400, help="access token lifetime in seconds")
    parser.add_argument("--pkce-required", action="store_true", help="refuse authorization requests without PKCE")
    parser.add_argument("--next-term", action="store_true",
                        help="start with the 'next term' roster: one pupil moved to another class, one departed")
    args = parser.parse_args(argv)
    redirects = tuple(args.redirect_uri or ["http://127.0.0.1:5000/login/kundelik/callback",
                                            "http://localhost:5000/login/kundelik/callback"])
    local = LocalKundelik(args.client_id, args.client_secret, redirects, expires_in=args.expires_in,
                          pkce_required=args.pkce_required)
    if args.next_term:
        local.world.next_term()
    print(f"Local Kundelik on http://{HOST}:{args.port} (client id {args.client_id}); Ctrl+C stops it.")
    run_simple(HOST, args.port, create_server(local), threaded=True)


if __name__ == "__main__":
    main()
