"""Alert inbox (psychologist) and escalations page (director)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.auth.permissions import Permission, deny_404, get_pupil_or_404, has_permission, require
from app.core.links import safe_next
from app.core.models import utcnow
from app.core.web import NavCount, register_nav_counts
from app.help import services as help_requests
from app.screening import alerts as services
from app.screening import labels, text_status
from app.screening.forms import AcknowledgeForm, ResolveForm
from app.screening.models import Alert
from app.screening.views import bp

P = Permission.SCREENING_ALERTS


def _get_alert_or_404(alert_uuid: str) -> Alert:
    alert = services.get_alert(actor=current_user, alert_uuid=alert_uuid)
    if alert is None:
        deny_404(current_user, permission=P, object_type="alert", object_id=alert_uuid,
                 school_of=select(Alert.school_id).where(Alert.uuid == alert_uuid))
    return alert


def _open_alert_counts() -> list[NavCount]:
    """The menu's and the home page's count of open alerts by severity, each a link to the inbox filtered by it."""
    if not has_permission(current_user, P):
        return []
    return [NavCount(count=count, label=labels.severity_count(severity, count), kind=labels.severity_kind(severity),
                     url=url_for("screening.alert_inbox", severity=severity))
            for severity, count in services.open_alert_counts_for(actor=current_user).items()]


register_nav_counts("screening.alert_inbox", _open_alert_counts)


@bp.route("/screening/alerts")
@require(P)
def alert_inbox() -> str:
    severity = request.args.get("severity")
    severity = severity if severity in services.SEVERITIES else None
    pupil_uuid = request.args.get("pupil")
    pupil = get_pupil_or_404(current_user, pupil_uuid, P) if pupil_uuid else None
    alerts = services.open_alerts(actor=current_user, severity=severity, pupil=pupil)
    # Titles, rule names and messages in the interface language; the version in small print.
    described = {a.uuid: (labels.instrument_title(a.instrument_ref), labels.alert_message(a.instrument_ref, a.rule_id))
                 for a in alerts}
    here = url_for("screening.alert_inbox", severity=severity, pupil=pupil.uuid if pupil else None)
    # One workflow: an alert that needs more than one conversation becomes (or joins) the pupil's case.
    open_cases = {}
    if has_permission(current_user, Permission.MONITORING_CASE_MANAGE):
        from app.monitoring.services import open_cases_by_pupil

        open_cases = open_cases_by_pupil(pupil_ids=[a.pupil_id for a in alerts if a.pupil_id is not None])
    return render_template("screening/alerts.html", alerts=alerts, described=described, now=utcnow(),
                           open_cases=open_cases, help_messages=help_requests.messages_for(alerts),
                           class_labels=services.class_labels(alerts),
                           can_open_cases=has_permission(current_user, Permission.MONITORING_CASE_MANAGE),
                           severity=severity, pupil=pupil, version=labels.instrument_version,
                           back=here if (severity or pupil) else None,
                           ack_form=AcknowledgeForm(), resolve_form=ResolveForm(),
                           text_statuses={a.uuid: text_status.for_alert(a) for a in alerts})


def _inbox() -> str:
    """Back to the inbox, filtered as it was (``next``, a path on this site only)."""
    return safe_next(request.args.get("next"), default=url_for("screening.alert_inbox"))


@bp.route("/screening/alerts/<alert_uuid>/acknowledge", methods=["POST"])
@require(P)
def alert_acknowledge(alert_uuid: str) -> Response:
    alert = _get_alert_or_404(alert_uuid)
    if AcknowledgeForm().validate_on_submit():
        services.acknowledge(actor=current_user, alert=alert)
        flash(_("Alert acknowledged."), "success")
    return redirect(_inbox())


@bp.route("/screening/alerts/<alert_uuid>/resolve", methods=["POST"])
@require(P)
def alert_resolve(alert_uuid: str) -> str | Response:
    alert = _get_alert_or_404(alert_uuid)
    form = ResolveForm()
    if not form.validate_on_submit():
        flash(_("Write what was done before closing the alert."), "error")
    else:
        try:
            services.resolve(actor=current_user, alert=alert, note=form.note.data)
        except services.AlertNotAcknowledged:
            flash(_("Acknowledge the alert first."), "error")
        else:
            flash(_("Alert resolved."), "success")
    return redirect(_inbox())


@bp.route("/screening/escalations")
@require(Permission.SCREENING_ESCALATIONS)
def escalations() -> str:
    return render_template("screening/escalations.html", escalations=services.escalations_for(actor=current_user),
                           locked=services.locked_psychologists_for(actor=current_user),
                           now=utcnow())
