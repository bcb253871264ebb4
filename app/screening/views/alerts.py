"""Alert inbox (psychologist) and escalations page (director)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from app.auth.permissions import Permission, deny_404, has_permission, require
from app.core.models import utcnow
from app.screening import alerts as services
from app.screening import labels
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


@bp.route("/screening/alerts")
@require(P)
def alert_inbox() -> str:
    alerts = services.open_alerts(actor=current_user)
    # Titles and rule messages in the interface language; the raw ref stays beside them for methodologists.
    described = {a.uuid: (labels.instrument_title(a.instrument_ref), labels.alert_message(a.instrument_ref, a.rule_id))
                 for a in alerts}
    # One workflow: an alert that needs more than one conversation becomes (or joins) the pupil's case.
    open_cases = {}
    if has_permission(current_user, Permission.MONITORING_CASE_MANAGE):
        from app.monitoring.services import open_cases_by_pupil

        open_cases = open_cases_by_pupil(pupil_ids=[a.pupil_id for a in alerts])
    return render_template("screening/alerts.html", alerts=alerts, described=described, now=utcnow(),
                           ack_form=AcknowledgeForm(), resolve_form=ResolveForm(), open_cases=open_cases,
                           can_open_cases=has_permission(current_user, Permission.MONITORING_CASE_MANAGE))


@bp.route("/screening/alerts/<alert_uuid>/acknowledge", methods=["POST"])
@require(P)
def alert_acknowledge(alert_uuid: str) -> Response:
    alert = _get_alert_or_404(alert_uuid)
    if AcknowledgeForm().validate_on_submit():
        services.acknowledge(actor=current_user, alert=alert)
        flash(_("Alert acknowledged."), "success")
    return redirect(url_for("screening.alert_inbox"))


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
    return redirect(url_for("screening.alert_inbox"))


@bp.route("/screening/escalations")
@require(Permission.SCREENING_ESCALATIONS)
def escalations() -> str:
    return render_template("screening/escalations.html", alerts=services.escalated_alerts(actor=current_user),
                           locked=services.locked_psychologists_for(actor=current_user),
                           now=utcnow())
