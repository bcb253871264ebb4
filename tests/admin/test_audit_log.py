"""The audit log page: newest first, filters, its own reading audited, and the verify button."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from app.consent.services import today_local
from app.core import audit
from app.core.audit import AuditAction, AuditEntry, Outcome
from app.extensions import db
from tests.factories import login, post


def _reads() -> list[AuditEntry]:
    return list(db.session.execute(
        select(AuditEntry).where(AuditEntry.action == AuditAction.AUDIT_LOG_READ)).scalars())


def _seed(world) -> None:
    audit.record(world.psy1, AuditAction.PUPIL_READ, school_id=world.s1.id, pupil_id=world.p1.id,
                 object_type="pupil", object_id=world.p1.uuid)
    audit.record(world.t7a, AuditAction.ACCESS_DENIED, outcome=Outcome.DENIED, pupil_id=world.p2.id)
    db.session.commit()


def test_page_shows_newest_first_with_names_and_is_audited(client, world):
    _seed(world)
    login(client, world.admin)
    body = client.get("/admin/audit").get_data(as_text=True)
    table = body[body.index("<tbody>"):]  # the actions in words, newest first
    assert table.index("<td>Access refused</td>") < table.index("<td>Pupil record opened</td>")
    assert "School psychologist" in body and "Тест Пайдаланушы" in body
    reads = _reads()
    assert len(reads) == 1 and reads[0].actor_id == world.admin.id


def test_filters_narrow_the_list_and_are_recorded(client, world):
    _seed(world)
    login(client, world.admin)
    body = client.get(f"/admin/audit?pupil_id={world.p1.id}").get_data(as_text=True)
    assert "<td>Pupil record opened</td>" in body and "<td>Access refused</td>" not in body
    body = client.get("/admin/audit?outcome=denied").get_data(as_text=True)
    assert "<td>Access refused</td>" in body and "<td>Pupil record opened</td>" not in body
    body = client.get(f"/admin/audit?user_id={world.psy1.id}&action=pupil:record:read").get_data(as_text=True)
    assert "<td>Pupil record opened</td>" in body and "<td>Signed in</td>" not in body
    # Dates in the school's time zone (UTC+5), as the filter reads them: after 19:00 UTC it is already tomorrow there.
    yesterday = (today_local() - timedelta(days=2)).isoformat()
    body = client.get(f"/admin/audit?date_to={yesterday}").get_data(as_text=True)
    assert "No entries match these filters." in body
    today = today_local().isoformat()
    body = client.get(f"/admin/audit?date_from={yesterday}&date_to={today}&action=pupil:record:read")
    assert "<td>Pupil record opened</td>" in body.get_data(as_text=True)
    details = [json.loads(e.details) for e in _reads()]
    assert {"pupil_id": world.p1.id, "page": 1} in details
    assert any(d.get("outcome") == "denied" for d in details)


def test_invalid_filters_are_shown_not_a_500(client, world):
    login(client, world.admin)
    response = client.get("/admin/audit?user_id=abc&date_from=yesterday&action=nope&page=-3")
    assert response.status_code == 200


def test_pagination(client, world):
    for _ in range(55):
        audit.record(world.admin, AuditAction.PUPIL_LIST)
    db.session.commit()
    login(client, world.admin)
    first = client.get("/admin/audit?action=pupil:record:list").get_data(as_text=True)
    assert "Page 1 of 2" in first and "page=2" in first and "action=pupil:record:list" in first
    second = client.get("/admin/audit?action=pupil:record:list&page=2").get_data(as_text=True)
    assert second.count("<td>Pupil list opened</td>") == 5


def test_verify_button_reports_ok(client, world):
    login(client, world.admin)
    response = post(client, "/admin/audit/verify", form_page="/admin/audit")
    assert response.status_code == 200 and "The audit log is intact." in response.get_data(as_text=True)
    assert db.session.execute(select(AuditEntry).where(
        AuditEntry.action == AuditAction.AUDIT_VERIFY)).scalar_one().outcome == "success"


@pytest.mark.sqlite_only  # PostgreSQL's trigger refuses the edit this test makes
def test_verify_button_reports_an_edited_entry(client, world):
    _seed(world)
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == AuditAction.PUPIL_READ)).scalar_one()
    db.session.execute(text("UPDATE audit_entries SET pupil_id = 999 WHERE id = :id"), {"id": entry.id})
    db.session.commit()
    login(client, world.admin)
    body = post(client, "/admin/audit/verify", form_page="/admin/audit").get_data(as_text=True)
    assert "1 problem found" in body and f"entry id {entry.id}" in body


# --- the e-mail outbox on the same page ---------------------------------------------------------------


def test_outbox_panel_says_when_mail_is_not_configured(client, world):
    login(client, world.admin)
    body = client.get("/admin/audit").get_data(as_text=True)
    assert "E-mail is not configured (SENIM_SMTP_HOST)" in body


def test_outbox_panel_shows_waiting_failing_and_given_up_mail(app, client, world, monkeypatch):
    from app.core import mail

    monkeypatch.setitem(app.config, "SENIM_SMTP_HOST", "127.0.0.1")
    login(client, world.admin)
    body = client.get("/admin/audit").get_data(as_text=True)
    assert "E-mail is not configured" not in body and "no longer retried" not in body
    waiting = mail.queue(recipients=["a@example.kz"], subject="s", body="b", language="ru")
    failing = mail.queue(recipients=["b@example.kz"], subject="s", body="b", language="ru")
    given_up = mail.queue(recipients=["c@example.kz"], subject="s", body="b", language="kk")
    db.session.flush()
    failing.attempts, failing.last_error = 1, "OSError: connection refused"
    given_up.attempts, given_up.last_error = mail.max_attempts(), "SMTPRecipientsRefused"
    db.session.commit()
    assert waiting.id
    body = client.get("/admin/audit").get_data(as_text=True)
    assert "1 notification could not be delivered and is no longer retried." in body
    assert "flask mail retry" in body
    section = body[body.index('id="outbox-heading"'):]
    assert "<dd>2</dd>" in section  # waiting + failing (the given-up one is counted in the callout)
    post(client, "/language", {"language": "kk"}, form_page="/admin/audit")
    body = client.get("/admin/audit").get_data(as_text=True)
    assert "no longer retried" not in body and "flask mail retry" in body  # in Kazakh
