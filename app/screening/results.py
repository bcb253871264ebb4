"""Reading results: per-pupil history (audited), trend series for charts, FHIR export."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.auth.models import User
from app.core import audit
from app.core.audit import AuditAction
from app.core.models import Pupil
from app.extensions import db
from app.screening.alerts import AlertHistory, pupil_alerts
from app.screening.fhir import questionnaire_response
from app.screening.models import ScreeningResult
from app.screening.services import instrument_for


@dataclass(frozen=True)
class ResultView:
    """One result, decrypted for the psychologist."""

    result: ScreeningResult
    scales: dict[str, Any]
    bands: dict[str, Any]
    alerts: list[dict[str, Any]]


@dataclass(frozen=True)
class PupilHistory:
    """What the pupil's results page shows: the results, oldest first, and every alert with its history."""

    results: list[ResultView]
    alerts: list[AlertHistory]


def pupil_history(*, actor: User, pupil: Pupil) -> PupilHistory:
    """Every result of the pupil, oldest first, and the pupil's alerts, open and resolved, newest first; the opening
    is audited before anything is shown (the entry names the results, not the alerts: see alerts.open_alerts)."""
    results = list(db.session.execute(
        select(ScreeningResult).where(ScreeningResult.pupil_id == pupil.id).order_by(ScreeningResult.completed_at)
    ).scalars())
    audit.record_read(actor, AuditAction.SCREENING_RESULT_READ, school_id=pupil.school_id, pupil_id=pupil.id,
                      object_type="pupil", object_id=pupil.uuid, details={"results": [r.id for r in results]})
    views = []
    for r in results:
        scores = r.scores
        views.append(ResultView(r, scores["scales"], scores["bands"], scores["alerts"]))
    return PupilHistory(views, pupil_alerts(pupil=pupil))


def trend_series(history: list[ResultView]) -> dict[str, list[tuple[datetime, float]]]:
    """{"instrument-id · scale": [(completed at, value), ...]} for scales with at least one value."""
    series: dict[str, list[tuple[datetime, float]]] = {}
    for view in history:
        for scale, value in view.scales.items():
            if value is not None:
                series.setdefault(f"{view.result.instrument_id} · {scale}", []).append(
                    (view.result.completed_at, float(value)))
    return series


def svg_points(points: Sequence[tuple[Any, float]], width: int = 320, height: int = 120,
               pad: int = 16) -> list[tuple[float, float]]:
    """Pixel coordinates of a series (x by order, y scaled to the series' own range)."""
    values = [v for _, v in points]
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = (width - 2 * pad) / max(1, len(points) - 1)
    return [(round(pad + i * step, 1), round(height - pad - (v - low) / span * (height - 2 * pad), 1))
            for i, (_, v) in enumerate(points)]


def get_result_for(*, pupil: Pupil, result_uuid: str) -> ScreeningResult | None:
    """A result of this (already scope-checked) pupil."""
    return db.session.execute(select(ScreeningResult).where(
        ScreeningResult.uuid == result_uuid, ScreeningResult.pupil_id == pupil.id)).scalar_one_or_none()


def export_fhir(*, actor: User, result: ScreeningResult) -> dict[str, Any]:
    """The result as a FHIR R4 QuestionnaireResponse; the export is audited first."""
    audit.record_read(actor, AuditAction.SCREENING_RESULT_EXPORT, school_id=result.school_id,
                      pupil_id=result.pupil_id, object_type="screening_result", object_id=result.uuid)
    instrument = instrument_for(result.instrument_ref)
    return questionnaire_response(instrument, result.answers, lang=result.language, authored=result.completed_at,
                                  subject_ref=f"Patient/{result.pupil.uuid}")
