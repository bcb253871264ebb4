"""Notes, reasons, risk levels and registry details are not in plaintext in the database (raw column bytes, the
SQL equivalent of a dump, and the SQLite file); audit entries carry ids only."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.core.audit import AuditAction
from app.extensions import db
from app.monitoring import attachments, followups, glass, plans, referrals, registry, services
from app.monitoring.models import CaseStatus, RegistryReason, RiskLevel
from app.monitoring.plan_models import ContactWay, PlanKind
from app.monitoring.referral_models import ReferralDestination
from tests.factories import totp_now
from tests.monitoring.support import NOTE_MARKER, acute_alert, entries, open_case, register
from tests.security.helpers import all_text_values, contains

MONITORING_TABLES = ["monitoring_cases", "case_events", "case_notes", "case_members", "case_access_grants",
                     "registry_entries", "registry_events", "school_keys", "case_referrals", "case_steps",
                     "case_transfers", "safety_plans", "safety_plan_versions",
                     "support_plans", "support_actions", "plan_reviews", "followup_settings", "followups",
                     "parent_contacts", "case_attachments"]
#: Values that say what a record is about; each is stored only inside a ciphertext.
REVEALING = [NOTE_MARKER, "acute", "high", "police", "commission", RegistryReason.SUICIDAL_BEHAVIOUR.value,
             "truancy", "alert"]


@pytest.fixture
def records(world):
    case = open_case(world, risk=RiskLevel.HIGH, reason=f"{NOTE_MARKER} причина")
    services.change_risk(actor=world.psy1, case=case, version=case.version, risk=RiskLevel.ACUTE,
                         reason=f"{NOTE_MARKER} причина изменения")
    services.add_note(actor=world.psy1, case=case, body=f"{NOTE_MARKER} заметка")
    services.change_status(actor=world.psy1, case=case, version=case.version, status=CaseStatus.ACTIVE,
                           reason=f"{NOTE_MARKER} статус")
    services.case_from_alert(actor=world.psy1, alert=acute_alert(world))
    entry = register(world, kind="police")
    registry.deregister(actor=world.soc1, entry=entry, version=entry.version, ended_on=date(2027, 1, 10),
                        reason=f"{NOTE_MARKER} снят с учёта")
    register(world, pupil=world.p2, kind="commission")
    referrals.create_referral(actor=world.psy1, case=case, destination=ReferralDestination.POLICE,
                              reason=f"{NOTE_MARKER} направление", sent_on=date(2026, 9, 1), deadline=date(2026, 9, 2))
    plan = plans.save_safety_plan(actor=world.psy1, case=case, version=None, review_on=None,
                                  content={"warning_signs": f"{NOTE_MARKER} знак", "coping": f"{NOTE_MARKER} музыка"})
    plans.save_safety_plan(actor=world.psy1, case=case, version=plan.version, review_on=None,
                           content={"environment": f"{NOTE_MARKER} договорённость"})
    plans.review_plan(actor=world.psy1, case=case, kind=PlanKind.SAFETY, note=f"{NOTE_MARKER} пересмотр",
                      next_review_on=None)
    action = plans.add_action(actor=world.psy1, case=case, action=f"{NOTE_MARKER} беседа",
                              responsible=f"{NOTE_MARKER} учитель", due_on=None)
    assert action.details["action"].startswith(NOTE_MARKER)
    followups.set_interval(actor=world.psy1, case=case, version=None, days=14)
    followups.record_followup(actor=world.psy1, pupil=world.p1, case=case, done_on=date(2026, 12, 1),
                              done=f"{NOTE_MARKER} встреча", outcome=f"{NOTE_MARKER} итог", next_on=None)
    followups.record_followup(actor=world.soc1, pupil=world.p2, case=None, done_on=date(2026, 12, 1),
                              done=f"{NOTE_MARKER} визит", outcome="", next_on=None)
    followups.record_parent_contact(actor=world.psy1, case=case, contacted_on=date(2026, 12, 2),
                                    way=ContactWay.HOME_VISIT, summary=f"{NOTE_MARKER} мама")
    note = services.add_note(actor=world.psy1, case=case, body="see the file")
    attachments.add_attachment(actor=world.psy1, case=case, note=note, filename=f"{NOTE_MARKER}.pdf",
                               data=b"%PDF-1.4\n" + NOTE_MARKER.encode() + b"\n%%EOF\n")
    grant = glass.request_access(actor=world.psy2, pupil=world.p1, reason=f"{NOTE_MARKER} срочно",
                                 code=totp_now(world.psy2), ip="127.0.0.1")
    glass.review(actor=world.psy1, grant=grant, version=grant.version, justified=True, note=f"{NOTE_MARKER} ok")
    db.session.commit()
    return case


def test_monitoring_tables_hold_no_plaintext(world, records) -> None:
    for table, column, value in all_text_values(tables=MONITORING_TABLES):
        leaked = [word for word in REVEALING if contains(value, word)]
        assert not leaked, f"{table}.{column} holds {leaked}"


def test_no_note_or_reason_anywhere_in_the_database(world, records) -> None:
    for table, column, value in all_text_values():
        assert not contains(value, NOTE_MARKER), f"{table}.{column} holds a note or reason in plaintext"


@pytest.mark.sqlite_only
def test_the_sqlite_file_holds_no_note(app: Flask, world, records) -> None:
    db.session.commit()
    raw = Path(make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database).read_bytes()
    assert NOTE_MARKER.encode() not in raw


def test_the_ciphertexts_are_under_the_school_key(world, records) -> None:
    rows = db.session.execute(text("SELECT body_ct FROM case_notes")).scalars().all()
    assert rows and all(bytes(row)[2:2 + len(f"s{world.s1.id}-1")] == f"s{world.s1.id}-1".encode() for row in rows)


def test_audit_entries_of_monitoring_name_the_pupil_and_nothing_else(world, records) -> None:
    actions = [a for a in AuditAction if str(a).startswith("monitoring:")]
    found = [e for action in actions for e in entries(action)]
    assert found and all(e.pupil_id in (world.p1.id, world.p2.id) for e in found)
    for entry in found:
        assert not [word for word in REVEALING if word in entry.details], entry.details
