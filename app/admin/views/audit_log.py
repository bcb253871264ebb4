"""The audit log: filtered, paginated, newest first; reading it is audited; the chains can be verified.

The page also shows the state of the e-mail outbox (app/core/mail.py), so that an administrator notices
alert notifications that cannot be delivered.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from flask import render_template, request
from flask_login import current_user

from app.admin import services
from app.admin.forms import AuditFilterForm, ConfirmForm
from app.admin.views import bp
from app.auth.permissions import Permission, require
from app.core import mail
from app.core.routing import db_int

PERM = Permission.AUDIT_READ
_FILTER_FIELDS = ("action", "outcome", "user_id", "pupil_id", "date_from", "date_to")


def _filters(form: AuditFilterForm) -> services.AuditFilters:
    """The filters whose fields are valid (an invalid one is shown with its error and ignored)."""
    form.validate()
    values = {name: getattr(form, name).data or None for name in _FILTER_FIELDS if not getattr(form, name).errors}
    return services.AuditFilters(**values)


@bp.route("/audit")
@require(PERM)
def audit_log() -> str:
    form = AuditFilterForm(request.args)
    filters = _filters(form)
    page = services.audit_page(actor=current_user, filters=filters, page=request.args.get("page", 1, type=db_int))
    query_args = {k: v for k, v in request.args.items() if k in _FILTER_FIELDS and v}
    return render_template("admin/audit_log.html", form=form, page=page, names=services.actors(page.items),
                           query_args=query_args, confirm=ConfirmForm(),
                           outbox=_to_the_hour(mail.state()) if mail.configured() else None)


def _to_the_hour(state: mail.OutboxState) -> mail.OutboxState:
    """The outbox times cut to the hour: enough to notice stuck mail, too coarse to date the e-mail an anonymous
    request for help queues (its time would sit next to the sender's own entries on this page)."""
    def cut(moment: datetime | None) -> datetime | None:
        return None if moment is None else moment.replace(minute=0, second=0, microsecond=0)
    return replace(state, oldest_unsent=cut(state.oldest_unsent), last_sent=cut(state.last_sent))


@bp.route("/audit/verify", methods=["POST"])
@require(PERM)
def audit_verify() -> str:
    problems = services.verify_audit(actor=current_user)
    return render_template("admin/audit_verify.html", problems=problems[:200], total=len(problems))
