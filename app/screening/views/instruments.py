"""The catalogue of shipped instruments: licence, sources, translation status, items, FHIR Questionnaire."""

from __future__ import annotations

import json

from flask import Response, abort, render_template, request

from app.auth.permissions import Permission, require
from app.core.security import DOWNLOAD_CSP
from app.screening import fhir, labels, text_status
from app.screening.instruments import Instrument, UnknownInstrumentError
from app.screening.labels import interface_language, text_status_label, texts_for
from app.screening.services import registry
from app.screening.views import bp


@bp.route("/screening/instruments")
@require(Permission.SCREENING_INSTRUMENTS)
def instrument_list() -> str:
    instruments = sorted((i for i in registry().current() if i.status == "active"), key=lambda i: i.id)
    return render_template("screening/instrument_list.html", instruments=instruments, texts_for=texts_for,
                           status_label=text_status_label)


def _instrument_or_404(instrument_id: str, version: str) -> Instrument:
    try:
        return registry().get(instrument_id, version)
    except UnknownInstrumentError:
        abort(404)


@bp.route("/screening/instruments/<instrument_id>/<version>")
@require(Permission.SCREENING_INSTRUMENTS)
def instrument_detail(instrument_id: str, version: str) -> str:
    instrument = _instrument_or_404(instrument_id, version)
    language = request.args.get("lang") or interface_language()
    if language not in instrument.texts:
        abort(404)
    newest = registry().get(instrument.id)
    return render_template("screening/instrument_detail.html", instrument=instrument,
                           texts=instrument.text(language), language=language, status_label=text_status_label,
                           current=newest is instrument, newest=newest, scale_label=labels.scale_label,
                           band_label=labels.band_label, population_name=labels.population_name,
                           severity_label=labels.severity_label,
                           status_view=text_status.describe(instrument.text(language)))


@bp.route("/screening/instruments/<instrument_id>/<version>/questionnaire.json")
@require(Permission.SCREENING_INSTRUMENTS)
def instrument_questionnaire(instrument_id: str, version: str) -> Response:
    """The instrument as an HL7 FHIR R4 Questionnaire (no pupil data, so no step-up)."""
    instrument = _instrument_or_404(instrument_id, version)
    language = request.args.get("lang", "en")
    if language not in instrument.texts:
        abort(404)
    body = json.dumps(fhir.questionnaire(instrument, language), ensure_ascii=False, indent=2)
    filename = f"{instrument.id}-{instrument.version}-{language}.questionnaire.json"
    return Response(body, mimetype="application/fhir+json",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Content-Security-Policy": DOWNLOAD_CSP})
