"""Issue 9, case 3: a stolen database or backup cannot tell who screened at risk.

Alerts reach their pupil only through a keyed reference; their pupil, session, result, instrument, rules,
severity and time are encrypted; results carry no plaintext flag level; the audit trail of alerts names no pupil,
rule or severity.
"""

from __future__ import annotations

import json

from sqlalchemy import inspect, select, text

from app.core.audit import AuditEntry
from app.extensions import db
from app.screening.models import Alert, pupil_ref
from app.screening.services import instrument_for, submit_result
from tests.migration_support import MIGRATIONS, scratch_app
from tests.screening.workflow_support import ACUTE_ASQ, ASQ

#: What an alert row may say in plaintext: where it belongs, its deadline and what staff did with it.
PLAINTEXT_ALERT_COLUMNS = {"id", "uuid", "school_id", "pupil_ref", "details_ct", "due_at", "acknowledged_at",
                           "acknowledged_by_id", "resolved_at", "resolved_by_id", "resolution_note_ct",
                           "escalated_at"}
OUTCOME_WORDS = ("acute", "urgent", "routine", "asq", "phq", "self_harm")


def _acute(world):
    return submit_result(actor=world.psy1, session=None, answers=ACUTE_ASQ, pupil=world.p1,
                         instrument=instrument_for(ASQ), language="kk")


def test_alert_rows_hold_no_outcome_and_no_pupil_in_plaintext(world) -> None:
    result = _acute(world)
    columns = {c["name"] for c in inspect(db.engine).get_columns("screening_alerts")}
    assert columns == PLAINTEXT_ALERT_COLUMNS
    references = {fk["referred_table"] for fk in inspect(db.engine).get_foreign_keys("screening_alerts")}
    assert references <= {"schools", "users"}, "an alert must not point at a pupil, session or result"
    with db.engine.connect() as connection:
        row = connection.execute(text("SELECT * FROM screening_alerts")).mappings().one()
    for name, value in row.items():
        shown = bytes(value) if isinstance(value, (bytes, memoryview)) else str(value).encode()
        for word in OUTCOME_WORDS:
            assert word.encode() not in shown.lower(), (name, word)
    assert bytes(row["pupil_ref"]) != str(world.p1.id).encode()
    # The application still finds it, through the key.
    (alert,) = result.alerts
    assert alert.severity == "acute" and alert.pupil_id == world.p1.id and alert.rule_id == "asq.acute"
    assert db.session.execute(select(Alert.id).where(Alert.pupil_ref == pupil_ref(world.p1.id))).scalar_one()


def test_results_carry_no_plaintext_flag_level(world) -> None:
    result = _acute(world)
    assert "flag_level" not in {c["name"] for c in inspect(db.engine).get_columns("screening_results")}
    assert int(result.flag_level) == 3  # derived from the encrypted scores


def test_the_audit_trail_of_alerts_names_no_pupil_rule_or_severity(world) -> None:
    result = _acute(world)
    from app.screening import alerts

    (alert,) = result.alerts
    alerts.acknowledge(actor=world.psy1, alert=alert)
    alerts.resolve(actor=world.psy1, alert=alert, note="met with the pupil and the parents")
    entries = db.session.execute(select(AuditEntry).where(AuditEntry.action.like("screening:alert:%"))).scalars().all()
    assert {e.action for e in entries} == {"screening:alert:raised", "screening:alert:acknowledged",
                                          "screening:alert:resolved"}
    for entry in entries:
        assert entry.pupil_id is None, entry.action
        assert not any(word in entry.details.lower() for word in OUTCOME_WORDS), entry.details
    (submitted,) = db.session.execute(select(AuditEntry).where(AuditEntry.action == "screening:result:submit")
                                      ).scalars()
    assert "alerts" not in json.loads(submitted.details)


def test_migration_0009_encrypts_existing_alerts_and_back(tmp_path) -> None:
    from flask_migrate import downgrade, upgrade

    from app.core.encryption import crypto

    with scratch_app(f"sqlite:///{tmp_path / 'm.db'}") as app:
        upgrade(directory=MIGRATIONS, revision="0008_security_findings")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO regions (id, name_kk, name_ru) VALUES (1, 'r', 'r')"))
            conn.execute(text("INSERT INTO districts (id, region_id, name_kk, name_ru) VALUES (1, 1, 'd', 'd')"))
            conn.execute(text("INSERT INTO schools (id, district_id, name_kk, name_ru, default_language) "
                              "VALUES (1, 1, 's', 's', 'kk')"))
            conn.execute(text(
                "INSERT INTO pupils (id, uuid, school_id, last_name_ct, first_name_ct, name_bidx, birth_date, sex, "
                "active, created_at) VALUES (7, 'p-7', 1, x'00', x'00', x'00', '2012-01-01', 'female', 1, "
                "'2026-01-01 00:00:00')"))
            conn.execute(text(
                "INSERT INTO screening_alerts (uuid, pupil_id, school_id, instrument_ref, rule_id, severity, "
                "raised_at, due_at) VALUES ('a-1', 7, 1, 'asq@1.0', 'asq.acute', 'acute', "
                "'2026-01-01 10:00:01', '2026-01-01 10:00:01')"))
        upgrade(directory=MIGRATIONS, revision="0009_outcomes_encrypted")
        with db.engine.connect() as conn:
            row = conn.execute(text("SELECT * FROM screening_alerts")).mappings().one()
        assert set(row) == PLAINTEXT_ALERT_COLUMNS
        assert bytes(row["pupil_ref"]) == crypto().blind_index.compute("7", scope="alert-pupil")
        assert b"acute" not in bytes(row["details_ct"])
        assert str(row["due_at"]).startswith("2026-01-01 10:05")  # rounded up to five minutes
        with app.test_request_context():
            alert = db.session.execute(select(Alert)).scalar_one()
            assert (alert.severity, alert.rule_id, alert.pupil_id, alert.instrument_ref) == (
                "acute", "asq.acute", 7, "asq@1.0")
        db.session.remove()
        downgrade(directory=MIGRATIONS, revision="0008_security_findings")
        with db.engine.connect() as conn:
            back = conn.execute(text("SELECT pupil_id, severity, rule_id, instrument_ref FROM screening_alerts")).one()
        assert tuple(back) == (7, "acute", "asq.acute", "asq@1.0")
