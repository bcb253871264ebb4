""""Sign in with Kundelik": send the browser to Kundelik's consent page, and take it back.

The pending sign-in (``state``, the PKCE verifier, where to go next, when it started) waits in the session for
at most ``SENIM_KUNDELIK_STATE_TTL`` and is used once. Every way it can fail ends on a page that says what
happened in the user's language, with the password sign-in one click away.
"""

from __future__ import annotations

import hmac
import time
from typing import Any

from authlib.common.security import generate_token
from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.core.links import safe_next
from app.kundelik import client, mapping, services

bp = Blueprint("kundelik", __name__, template_folder="templates")

PENDING = "kundelik_pending"


def redirect_uri() -> str:
    """The callback address registered with Kundelik: built from ``SENIM_BASE_URL``, never from the request."""
    return current_app.config["SENIM_BASE_URL"].rstrip("/") + url_for("kundelik.callback")


def _problem(reason: str, status: int, **context: Any) -> tuple[str, int]:
    return render_template("kundelik/problem.html", reason=reason, **context), status


@bp.route("/login/kundelik")
def start() -> Response:
    if not client.configured():
        abort(404)
    if current_user.is_authenticated:
        return redirect(url_for("core.index"))
    state = generate_token(32)
    verifier = generate_token(64) if current_app.config["SENIM_KUNDELIK_PKCE"] else None
    session[PENDING] = {"state": state, "verifier": verifier, "next": request.args.get("next", ""),
                        "at": int(time.time())}
    return redirect(client.authorization_url(redirect_uri=redirect_uri(), state=state, code_verifier=verifier))


def _pending_matches(pending: Any, state: str) -> bool:
    if not isinstance(pending, dict) or not isinstance(pending.get("state"), str) or not state:
        return False
    age = time.time() - int(pending.get("at", 0))
    ttl = current_app.config["SENIM_KUNDELIK_STATE_TTL"].total_seconds()
    return 0 <= age <= ttl and hmac.compare_digest(pending["state"], state)


@bp.route("/login/kundelik/callback")
def callback() -> Response | tuple[str, int]:
    if not client.configured():
        abort(404)
    pending = session.pop(PENDING, None)  # single use, whatever happens next
    args = request.args
    if not _pending_matches(pending, args.get("state", "")):
        services.record_failure(reason="state")
        return _problem("state", 400)
    if args.get("error") or args.get("is_granted", "").lower() == "false" or not args.get("code"):
        reason = "denied" if args.get("error", "access_denied") == "access_denied" else "refused"
        services.record_failure(reason=reason, details={"error": args.get("error", "")[:40]})
        return _problem(reason, 200 if reason == "denied" else 502)
    try:
        token = client.exchange_code(code=args["code"], redirect_uri=redirect_uri(),
                                     code_verifier=pending.get("verifier"))
        api = client.KundelikApi(token.access_token)
        identity = mapping.identity(api.me(), api.context())
    except client.KundelikUnavailable:
        services.record_failure(reason="unavailable")
        return _problem("unavailable", 503)
    except client.KundelikUnauthorized as error:
        services.record_failure(reason="expired", details={"kind": error.kind or ""})
        return _problem("expired", 401)
    except (client.KundelikError, mapping.IncompleteIdentity) as error:
        services.record_failure(reason="token", details={"kind": getattr(error, "kind", None) or ""})
        return _problem("token", 502)
    result = services.sign_in(identity=identity, token=token, ip=request.remote_addr or "unknown",
                              user_agent=request.user_agent.string)
    if result.outcome is services.SignInOutcome.UNKNOWN_PERSON:
        return _problem("unknown_person", 403, person_id=identity.person_id)
    if result.outcome is services.SignInOutcome.REFUSED:
        return _problem("refused", 403)
    return redirect(safe_next(pending.get("next")))
