"""E36 for screening and consent reads (one complete entry each, no data); E40 the pupil's access log."""

from __future__ import annotations

import logging
import re
from datetime import UTC
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.core.audit import AuditAction, AuditEntry, Outcome
from app.extensions import db
from app.screening import alerts
from app.screening.services import instrument_for, submit_result
from tests.factories import SECRET_MARKER
from tests.screening.workflow_support import ACUTE_ASQ, ASQ, consent
from tests.security.helpers import all_text_values, contains, signed_in

NOTE_MARKER = "ZZ-SECRET-NOTE"
#: Every entry of a read must say who, as what, where, about whom, from where and in which request.
COMPLETE = ("actor_id", "actor_role", "school_id", "pupil_id", "object_type", "object_id", "ip", "request_id", "at")
_TBODY_ROW = re.compile(r"<tr>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>",
                        re.DOTALL)


def _newest_id() -> int:
    return db.session.execute(select(func.coalesce(func.max(AuditEntry.id), 0))).scalar_one()


def _entries_after(entry_id: int) -> list[AuditEntry]:
    return list(db.session.execute(
        select(AuditEntry).where(AuditEntry.id > entry_id).order_by(AuditEntry.id)).scalars())


def _screened(world):
    """P1 with a result whose first alert was resolved with a marked note, and consent on file."""
    consent(world.p1)
    result = submit_result(actor=world.psy1, session=None, answers=ACUTE_ASQ, pupil=world.p1,
                           instrument=instrument_for(ASQ), language="kk")
    alert = result.alerts[0]
    alerts.acknowledge(actor=world.psy1, alert=alert)
    alerts.resolve(actor=world.psy1, alert=alert, note=f"{NOTE_MARKER} spoke with the pupil")
    return result


def _one_complete_entry(client: FlaskClient, path: str, action: AuditAction, *, pupil_id: int) -> AuditEntry:
    before = _newest_id()
    response = client.get(path)
    assert response.status_code == 200, path
    new = _entries_after(before)
    assert [e.action for e in new] == [action], f"{path}: {[e.action for e in new]}"
    entry = new[0]
    missing = [name for name in COMPLETE if getattr(entry, name) is None]
    assert not missing, f"{path}: {missing} empty"
    assert entry.pupil_id == pupil_id and entry.outcome == Outcome.SUCCESS
    return entry


# --- E36 ---------------------------------------------------------------------------------------------


def test_each_screening_and_consent_read_writes_one_complete_entry(app: Flask, world, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    result = _screened(world)
    psychologist = signed_in(app, world.psy1)
    p1 = world.p1
    _one_complete_entry(psychologist, f"/screening/pupils/{p1.uuid}/results", AuditAction.SCREENING_RESULT_READ,
                        pupil_id=p1.id)
    fhir = _one_complete_entry(psychologist, f"/screening/pupils/{p1.uuid}/results/{result.uuid}.fhir.json",
                               AuditAction.SCREENING_RESULT_EXPORT, pupil_id=p1.id)
    assert fhir.object_id == result.uuid
    _one_complete_entry(psychologist, f"/consent/pupils/{p1.uuid}", AuditAction.CONSENT_READ, pupil_id=p1.id)
    _one_complete_entry(psychologist, f"/pupils/{p1.uuid}/access-log", AuditAction.PUPIL_ACCESS_LOG_READ,
                        pupil_id=p1.id)
    parent = signed_in(app, world.r1)
    _one_complete_entry(parent, f"/consent/my-children/{p1.uuid}", AuditAction.CONSENT_READ, pupil_id=p1.id)
    _one_complete_entry(parent, f"/parents/child/{p1.uuid}", AuditAction.PARENT_CHILD_READ, pupil_id=p1.id)

    db.session.commit()
    needles = [NOTE_MARKER, SECRET_MARKER, p1.first_name, p1.iin]
    for table, column, value in all_text_values(tables=["audit_entries"]):
        assert not [n for n in needles if contains(value, n)], f"{table}.{column} holds sensitive data"
    assert not [n for n in needles if n in caplog.text], "the application log holds sensitive data"


# --- E40: the access log ---------------------------------------------------------------------------------


def _name(world, user, name: str) -> None:
    user.full_name = name
    db.session.commit()


def test_access_log_lists_refusals_and_reads_in_local_time(app: Flask, world) -> None:
    _screened(world)
    _name(world, world.t7a, "Teacher Seven-A")
    _name(world, world.psy1, "Psychologist One")
    teacher = signed_in(app, world.t7a)
    assert teacher.get(f"/pupils/{world.p1.uuid}").status_code == 403
    psychologist = signed_in(app, world.psy1)
    assert psychologist.get(f"/pupils/{world.p1.uuid}").status_code == 200
    assert psychologist.get(f"/screening/pupils/{world.p1.uuid}/results").status_code == 200

    admin = signed_in(app, world.admin)
    admin.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    before = _newest_id()
    response = admin.get(f"/pupils/{world.p1.uuid}/access-log")
    assert response.status_code == 200
    assert [(e.action, e.actor_id) for e in _entries_after(before)] == [
        (AuditAction.PUPIL_ACCESS_LOG_READ, world.admin.id)], "opening the log is audited, once"
    rows = [(when, who, action, outcome) for when, who, action, outcome
            in _TBODY_ROW.findall(response.get_data(as_text=True))]
    refused = [r for r in rows if r[1] == "Teacher Seven-A"]
    assert len(refused) == 1 and refused[0][2] == "Access refused" and "refused" in refused[0][3]  # in words
    reads = {r[2] for r in rows if r[1] == "Psychologist One"}
    assert {"Pupil record opened", "Screening results opened"} <= reads

    entry = db.session.execute(select(AuditEntry).where(
        AuditEntry.actor_id == world.t7a.id, AuditEntry.action == AuditAction.ACCESS_DENIED)).scalar_one()
    at = entry.at if entry.at.tzinfo else entry.at.replace(tzinfo=UTC)
    zone = ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])
    local = format_datetime(at, "d MMM yyyy HH:mm", tzinfo=zone, locale="en")  # app.core.i18n.SHORT_DATE
    assert refused[0][0].strip() == local, "times are shown in Kazakhstan time"
    assert NOTE_MARKER not in response.get_data(as_text=True)


@pytest.mark.parametrize("who", ["t7a", "r1", "pupil1", "d1", "soc1"])
def test_access_log_is_refused_to_roles_without_it(app: Flask, world, who: str) -> None:
    client = signed_in(app, getattr(world, who))
    for pupil in (world.p1, world.p2):
        assert client.get(f"/pupils/{pupil.uuid}/access-log").status_code == 403
