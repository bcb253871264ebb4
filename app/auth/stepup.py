"""Step-up re-authentication for exports and downloads (security.md §7 B22; CPOMS "elevate access").

A signed-in session is not enough to take data out of Senim: :func:`require_recent_auth` sends a user
whose password was last entered more than five minutes ago to ``/reauth`` (password, plus the second
factor for roles that have one), then back to the page they asked for. The time of the last entry is
:attr:`UserSession.reauth_at`, set at sign-in and by :func:`app.auth.services.reauthenticate`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import redirect, request, url_for

from app.auth import sessions
from app.auth.models import UserSession
from app.core.framing import top_level_only
from app.core.models import utcnow

F = TypeVar("F", bound=Callable[..., Any])

#: How long a password entry counts as recent for a step-up route.
REAUTH_MAX_AGE = timedelta(minutes=5)


def reauth_due(record: UserSession | None, *, max_age: timedelta = REAUTH_MAX_AGE,
               now: datetime | None = None) -> bool:
    """True when the session's last password entry is missing or older than ``max_age``."""
    if record is None or record.reauth_at is None:
        return True
    return (now or utcnow()) - record.reauth_at > max_age


def require_recent_auth(max_age: timedelta = REAUTH_MAX_AGE) -> Callable[[F], F]:
    """Guard a view (below ``@require``): a stale session goes to ``/reauth`` first, then back here."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if reauth_due(sessions.current_session(), max_age=max_age):
                # Only a GET can be replayed by a redirect; anything else starts again from the home page.
                target = request.full_path.rstrip("?") if request.method == "GET" else None
                return redirect(url_for("auth.reauth", next=target))
            return view(*args, **kwargs)

        wrapped.senim_step_up = max_age  # type: ignore[attr-defined]
        return top_level_only(wrapped)  # type: ignore[return-value]  # exports: never inside another site's page

    return decorator


def step_up_age(view: Callable[..., Any]) -> timedelta | None:
    """The re-authentication age a view demands, or None if it has no :func:`require_recent_auth`."""
    return getattr(view, "senim_step_up", None)
