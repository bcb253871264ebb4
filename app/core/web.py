"""Template context: navigation for the signed-in user's roles (with counts beside entries), languages, request id."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g, has_request_context, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.auth.permissions import Permission, has_permission
from app.auth.roles import ROLE_LABELS
from app.core import markdown
from app.core.audit_labels import action_label
from app.core.framing import embedded_request
from app.core.i18n import ago, format_short_date, format_short_datetime, language_choices

#: Main navigation: (endpoint, label, permission). Shown only to users holding the permission.
NAVIGATION: list[tuple[str, Any, Permission]] = [
    ("core.index", _l("Home"), Permission.ACCOUNT_SELF),
    ("pupils.pupil_list", _l("Pupils"), Permission.PUPIL_LIST),
    ("classes.index", _l("My class"), Permission.CLASS_FLAGS),
    ("parents.children", _l("My children"), Permission.PARENT_CHILD),
    ("pupils.my_page", _l("My page"), Permission.PUPIL_SELF),
    ("guidance.library", _l("Guidance"), Permission.GUIDANCE_READ),
    ("screening.campaign_list", _l("Screening campaigns"), Permission.SCREENING_CAMPAIGNS),
    ("screening.class_overview_list", _l("Class overview"), Permission.SCREENING_RESULTS),
    ("screening.alert_inbox", _l("Alerts"), Permission.SCREENING_ALERTS),
    ("screening.escalations", _l("Escalated alerts"), Permission.SCREENING_ESCALATIONS),
    ("parents.meeting_list", _l("Meeting requests"), Permission.PARENT_MEETING_MANAGE),
    ("monitoring.caseload", _l("Cases"), Permission.MONITORING_CASE_READ),
    ("monitoring.followups", _l("Follow-ups"), Permission.MONITORING_FOLLOWUPS),
    ("monitoring.register", _l("Registries"), Permission.MONITORING_REGISTRY_READ),
    ("screening.instrument_list", _l("Instruments"), Permission.SCREENING_INSTRUMENTS),
    ("screening.local_list", _l("Local methods"), Permission.SCREENING_UPLOAD),
    ("seminars.index", _l("Seminars"), Permission.SEMINARS_ATTEND),
    ("seminars.organise", _l("Organise seminars"), Permission.SEMINARS_MANAGE),
    ("seminars.stats", _l("Seminar figures"), Permission.SEMINARS_STATS),
    ("reports.overview", _l("Reports"), Permission.REPORTS_AGGREGATE),
    ("admin.schools", _l("Schools"), Permission.ADMIN_SCHOOLS),
    ("admin.classes", _l("Classes"), Permission.ADMIN_CLASSES),
    ("admin.staff", _l("Staff"), Permission.ADMIN_STAFF),
    ("roster.index", _l("Roster import"), Permission.ROSTER_IMPORT),
    ("kundelik_sync.index", _l("Roster from Kundelik"), Permission.ROSTER_SYNC),
    ("help.services_admin", _l("Help directory"), Permission.HELP_DIRECTORY_MANAGE),
    ("admin.audit_log", _l("Audit log"), Permission.AUDIT_READ),
    ("auth.account", _l("My account"), Permission.ACCOUNT_SELF),
]


@dataclass(frozen=True)
class NavCount:
    """A count shown beside a navigation entry (and on the home page's card of it): "2 acute alerts"."""

    count: int
    #: The count in words of the interface language.
    label: str
    #: Where it leads (a filtered list).
    url: str
    #: Badge colour: neutral, info, success, warning or danger.
    kind: str = "neutral"


#: Providers of the counts beside navigation entries, by endpoint. Feature packages register theirs
#: (:func:`register_nav_counts`), so the core needs to know none of them.
NAV_COUNTS: dict[str, Callable[[], list[NavCount]]] = {}


def register_nav_counts(endpoint: str, provider: Callable[[], list[NavCount]]) -> None:
    """Show ``provider()``'s counts beside the navigation entry of ``endpoint`` (called once per request)."""
    NAV_COUNTS[endpoint] = provider


def _counts_of(endpoint: str) -> Callable[[], list[NavCount]]:
    """The counts of an entry, computed when a page first shows them and kept for the rest of the request (the
    menu and the home page share one query); error pages that show no menu never ask."""

    def counts() -> list[NavCount]:
        cache = g.setdefault("senim_nav_counts", {})
        if endpoint not in cache:
            cache[endpoint] = NAV_COUNTS[endpoint]()
        return cache[endpoint]

    return counts


def _no_counts() -> list[NavCount]:
    return []


def nav_items() -> list[dict[str, Any]]:
    """Navigation entries the current user may open."""
    if not current_user.is_authenticated:
        return []
    if current_user.requires_mfa and not g.get("senim_mfa_verified"):
        return []
    if current_user.password_change_required:  # every link would lead back to /account
        return []
    items = []
    for endpoint, label, permission in NAVIGATION:
        if has_permission(current_user, permission):
            url = url_for(endpoint)
            items.append({"url": url, "label": str(label), "active": request.endpoint == endpoint,
                          "counts": _counts_of(endpoint) if endpoint in NAV_COUNTS else _no_counts})
    return items


def _context() -> dict[str, Any]:
    return {
        "nav_items": nav_items(),
        "languages": language_choices(),
        "current_language": str(get_locale() or "kk"),
        "request_id": g.get("request_id", ""),
        "embedded": has_request_context() and embedded_request(current_app, request),
        "role_label": lambda role: str(ROLE_LABELS.get(role, role)),
    }


def register(app: Flask) -> None:
    """Install the context processor and the date filters."""
    app.context_processor(_context)
    app.jinja_env.filters["dateformat"] = format_short_date
    app.jinja_env.filters["datetimeformat"] = format_short_datetime
    app.jinja_env.filters["ago"] = ago
    app.jinja_env.filters["action_label"] = action_label
    app.jinja_env.filters["markdown"] = markdown.render
