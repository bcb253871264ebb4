"""A password someone else chose must be replaced by its owner before anything else.

When an admin or director creates an account or sets a temporary password, the user's
``password_change_required`` flag is set (:mod:`app.admin.accounts`). After the password and, for roles
that have one, the second factor, every request of such a user is sent to the change-password page
(``/account``), except the few endpoints needed to get there or to leave. Changing the password
(:func:`app.auth.services.change_password`) clears the flag.
"""

from __future__ import annotations

from flask import Flask, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

#: What a user with a required change may still reach: the change-password page itself, the second-factor
#: steps that come before it, sign-out, the language switcher and static files.
ALLOWED_ENDPOINTS = frozenset({
    "auth.account", "auth.mfa_verify", "auth.mfa_enroll", "auth.logout", "core.set_language", "static",
})


def password_change_due() -> bool:
    """True when the signed-in user must replace a password someone else chose."""
    return bool(current_user.is_authenticated and current_user.password_change_required)


def _guard() -> Response | None:
    if request.endpoint in ALLOWED_ENDPOINTS or not password_change_due():
        return None
    # Every method, every kind of response (pages, JSON, downloads): the answer is the change page.
    return redirect(url_for("auth.account"))


def register(app: Flask) -> None:
    """Install the guard; call after :func:`app.core.security.register`, whose hook loads the request's user."""
    app.before_request(_guard)
