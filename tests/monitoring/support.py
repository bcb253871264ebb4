"""Helpers of the monitoring tests: alerts through the real scoring path, cases and registrations through the
services (each audited and committed as in the app)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.core.audit import AuditAction, AuditEntry
from app.core.models import Pupil
from app.extensions import db
from app.monitoring import registry, services
from app.monitoring.models import CaseOrigin, MonitoringCase, RegistryDetails, RegistryEntry, RiskLevel
from app.screening.models import Alert
from app.screening.services import instrument_for, submit_result
from tests.screening.workflow_support import ACUTE_ASQ, ASQ

#: Marker put into every note, reason and basis text: it must never be found in the database in plaintext.
NOTE_MARKER = "ZZ-SECRET-NOTE"


def acute_alert(world, pupil: Pupil | None = None) -> Alert:
    """An acute ASQ alert for ``pupil`` (default p1), raised by scoring a paper form."""
    result = submit_result(actor=world.psy1, session=None, answers=ACUTE_ASQ, pupil=pupil or world.p1,
                           instrument=instrument_for(ASQ), language="kk")
    return result.alerts[0]


def open_case(world, pupil: Pupil | None = None, owner=None, risk: RiskLevel = RiskLevel.HIGH,
              reason: str = f"{NOTE_MARKER} первичная беседа") -> MonitoringCase:
    return services.open_case(actor=owner or world.psy1, pupil=pupil or world.p1, origin=CaseOrigin.MANUAL,
                              risk=risk, reason=reason)


def register(world, pupil: Pupil | None = None, actor=None, kind: str = "school",
             started_on: date = date(2026, 9, 15)) -> RegistryEntry:
    details = RegistryDetails(kind=kind, basis_document=f"{NOTE_MARKER} хаттама", basis_number="17",
                              basis_date=date(2026, 9, 14), reason_category="truancy",
                              reason_text=f"{NOTE_MARKER} сабаққа келмейді")
    return registry.add_entry(actor=actor or world.soc1, pupil=pupil or world.p1, details=details,
                              started_on=started_on, next_review_on=date(2026, 10, 15))


def entries(action: AuditAction, **filters) -> list[AuditEntry]:
    db.session.expire_all()
    query = select(AuditEntry).where(AuditEntry.action == str(action))
    for name, value in filters.items():
        query = query.where(getattr(AuditEntry, name) == value)
    return list(db.session.execute(query.order_by(AuditEntry.id)).scalars())
