"""Per-pupil screening history with trend charts, and FHIR export of a result."""

from __future__ import annotations

import json

from flask import Response, render_template
from flask_login import current_user
from sqlalchemy import select

from app.auth.permissions import Permission, can_see_pupil, deny_404, get_pupil_or_404, require
from app.auth.stepup import require_recent_auth
from app.core.i18n import format_short_date
from app.core.models import utcnow
from app.core.security import DOWNLOAD_CSP
from app.screening import labels, text_status
from app.screening import results as services
from app.screening.models import ScreeningResult
from app.screening.views import bp

P = Permission.SCREENING_RESULTS


@bp.route("/screening/pupils/<pupil_uuid>/results")
@require(P)
def pupil_results(pupil_uuid: str) -> str:
    pupil = get_pupil_or_404(current_user, pupil_uuid, P)
    record = services.pupil_history(actor=current_user, pupil=pupil)
    history = record.results
    refs = {v.result.instrument_ref for v in history} | {h.alert.instrument_ref for h in record.alerts}
    titles = {ref: labels.instrument_title(ref) for ref in refs}
    charts = [(_chart_name(name, history, titles), [(format_short_date(at), value) for at, value in points],
               services.svg_points(points))
              for name, points in services.trend_series(history).items()]
    return render_template("screening/results.html", pupil=pupil, history=history, alerts=record.alerts,
                           charts=charts, titles=titles, now=utcnow(), version=labels.instrument_version,
                           scale_label=labels.scale_label, band_label=labels.band_label,
                           population_label=labels.population_label,
                           can_open_card=can_see_pupil(current_user, pupil, Permission.PUPIL_READ),
                           can_manage_alerts=can_see_pupil(current_user, pupil, Permission.SCREENING_ALERTS),
                           text_statuses={v.result.uuid: text_status.for_result(v.result) for v in history})


def _chart_name(series: str, history: list[services.ResultView], titles: dict[str, str]) -> str:
    """"<instrument title> · <scale name>" for a trend series named "<instrument id> · <scale id>"."""
    instrument_id, _, scale = series.rpartition(" · ")
    refs = [v.result.instrument_ref for v in history if v.result.instrument_id == instrument_id]
    title = titles[refs[-1]] if refs else instrument_id
    return f"{title} · {labels.scale_label(scale)}"


@bp.route("/screening/pupils/<pupil_uuid>/results/<result_uuid>.fhir.json")
@require(P)
@require_recent_auth()
def result_fhir(pupil_uuid: str, result_uuid: str) -> Response:
    pupil = get_pupil_or_404(current_user, pupil_uuid, P)
    result = services.get_result_for(pupil=pupil, result_uuid=result_uuid)
    if result is None:
        deny_404(current_user, permission=P, object_type="screening_result", object_id=result_uuid,
                 school_of=select(ScreeningResult.school_id).where(ScreeningResult.uuid == result_uuid))
    body = json.dumps(services.export_fhir(actor=current_user, result=result), ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/fhir+json", headers={
        "Content-Disposition": f'attachment; filename="QuestionnaireResponse-{result.uuid}.json"',
        "Content-Security-Policy": DOWNLOAD_CSP})
