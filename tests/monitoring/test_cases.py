"""Case files through the pages: open by hand and from an alert (one transaction), risk and status with reasons
and history, the workflow's refusals, team, append-only notes, one open case per pupil; every step audited."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.core import audit as audit_module
from app.core.audit import AuditAction
from app.core.models import utcnow
from app.extensions import db
from app.monitoring import services
from app.monitoring.models import CaseEvent, CaseNote, CaseStatus, MonitoringCase, RiskLevel
from app.screening.models import Alert
from tests.factories import login, post
from tests.monitoring.support import NOTE_MARKER, acute_alert, entries, open_case


def _case_page(client, case) -> str:
    return client.get(f"/monitoring/cases/{case.uuid}").get_data(as_text=True)


def _send(client, case, action: str, prefix: str, **fields):
    data = {f"{prefix}-{name}": value for name, value in fields.items()}
    page = f"/monitoring/cases/{case.uuid}"
    from tests.factories import csrf_token

    data[f"{prefix}-csrf_token"] = csrf_token(client, page)
    return client.post(f"{page}/{action}", data=data)


def test_open_a_case_by_hand(client, world):
    login(client, world.psy1)
    path = f"/monitoring/pupils/{world.p1.uuid}/cases/new"
    response = post(client, path, {"origin": "request", "risk": "moderate", "reason": "Сама пришла поговорить"})
    assert response.status_code == 302
    case = db.session.execute(select(MonitoringCase)).scalar_one()
    assert case.owner_id == world.psy1.id and case.status == "open" and case.risk_level == "moderate"
    assert case.origin == "request" and response.headers["Location"].endswith(case.uuid)
    page = _case_page(client, case)
    assert "Moderate risk" in page and "The pupil asked for help" in page and "Сама пришла поговорить" in page
    (opened,) = entries(AuditAction.CASE_OPENED)
    assert opened.pupil_id == world.p1.id and opened.school_id == world.s1.id and opened.object_id == case.uuid
    assert entries(AuditAction.CASE_READ, pupil_id=world.p1.id)


def test_a_reason_is_required_to_open_a_case(client, world):
    login(client, world.psy1)
    response = post(client, f"/monitoring/pupils/{world.p1.uuid}/cases/new",
                    {"origin": "manual", "risk": "low", "reason": "  "})
    assert response.status_code == 200 and "There is a problem" in response.get_data(as_text=True)
    assert db.session.execute(select(func.count()).select_from(MonitoringCase)).scalar_one() == 0


def test_a_pupil_has_one_open_case(client, world):
    case = open_case(world)
    with pytest.raises(services.PupilHasOpenCase):
        open_case(world, owner=world.psy2)
    login(client, world.psy2)
    page = client.get(f"/monitoring/pupils/{world.p1.uuid}/cases/new").get_data(as_text=True)
    assert "already has an open case" in page and world.psy1.display_name in page
    assert case.uuid not in page  # psy2 is not on its team: no link into it


def test_the_open_case_index_refuses_a_second_open_case_at_the_database(world):
    open_case(world)
    duplicate = MonitoringCase(school_id=world.s1.id, pupil_id=world.p1.id, owner_id=world.psy2.id)
    duplicate.risk_level, duplicate.origin = "low", "manual"
    db.session.add(duplicate)
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_risk_changes_need_a_reason_and_keep_their_history(client, world):
    case = open_case(world, risk=RiskLevel.HIGH)
    login(client, world.psy1)
    response = _send(client, case, "risk", "risk", risk="acute", reason="", version=case.version)
    assert response.status_code == 400
    db.session.refresh(case)
    assert case.risk_level == "high"
    response = _send(client, case, "risk", "risk", risk="acute", reason="Рассказала о плане", version=case.version)
    assert response.status_code == 302
    db.session.expire_all()
    response = _send(client, case, "risk", "risk", risk="moderate", reason="После встречи с мамой",
                     version=case.version)
    assert response.status_code == 302
    db.session.expire_all()
    assert case.risk_level == "moderate" and case.version == 3
    risk_events = [e.data for e in case.events if e.kind == "risk"]
    assert risk_events == [{"from": "high", "to": "acute", "reason": "Рассказала о плане"},
                           {"from": "acute", "to": "moderate", "reason": "После встречи с мамой"}]
    page = _case_page(client, case)
    assert "Рассказала о плане" in page and "После встречи с мамой" in page and "Acute risk" in page
    changed = entries(AuditAction.CASE_RISK_CHANGED)
    assert len(changed) == 2 and all(e.pupil_id == world.p1.id for e in changed)
    assert all("acute" not in e.details and "moderate" not in e.details for e in changed)


def test_the_status_workflow_and_its_refusals(client, world):
    case = open_case(world)
    login(client, world.psy1)

    def move(status: str, reason: str = "причина"):
        db.session.expire_all()
        return _send(client, case, "status", "status", status=status, reason=reason, version=case.version)

    response = move("closed")  # open -> closed is not a step of the workflow
    assert response.status_code == 400
    assert "cannot be moved to" in response.get_data(as_text=True)
    assert move("review").status_code == 400
    assert move("active", reason=" ").status_code == 400  # no reason, no move
    for status in ("active", "review", "active", "review", "closed"):
        assert move(status).status_code == 302, status
    db.session.expire_all()
    assert case.status == "closed" and case.closed_at is not None
    page = _case_page(client, case)
    assert "Reopen the case" in page and 'name="note-body"' not in page  # closed: reopen only, no notes
    assert move("open", reason="Снова жалобы").status_code == 302
    db.session.expire_all()
    assert case.status == "open" and case.closed_at is None
    assert [e.data["to"] for e in case.events if e.kind == "status"] == [
        "active", "review", "active", "review", "closed", "open"]
    assert len(entries(AuditAction.CASE_STATUS_CHANGED)) == 6


def test_reopening_is_refused_while_another_case_is_open(world):
    case = open_case(world)
    for status in (CaseStatus.ACTIVE, CaseStatus.REVIEW, CaseStatus.CLOSED):
        services.change_status(actor=world.psy1, case=case, version=case.version, status=status, reason="r")
    newer = open_case(world, owner=world.psy2)
    with pytest.raises(services.PupilHasOpenCase) as raised:
        services.change_status(actor=world.psy1, case=case, version=case.version, status=CaseStatus.OPEN,
                               reason="r")
    assert raised.value.case.id == newer.id


def test_team_members_join_and_leave_with_their_history(client, world):
    case = open_case(world)
    login(client, world.psy1)
    page = _case_page(client, case)
    for person in (world.soc1, world.psy2, world.a1):
        assert f'<option value="{person.id}"' in page
    for outsider in (world.psy3, world.t7a, world.admin):
        assert f'<option value="{outsider.id}"' not in page
    assert _send(client, case, "team", "team", user_id=world.psy3.id, version=case.version).status_code == 400
    assert _send(client, case, "team", "team", user_id=world.soc1.id, version=case.version).status_code == 302
    db.session.expire_all()
    (member,) = case.current_members
    assert member.user_id == world.soc1.id and member.team_role == "social_pedagogue"
    response = _send(client, case, f"team/{member.id}/remove", "remove", version=case.version)
    assert response.status_code == 302
    db.session.expire_all()
    assert case.current_members == [] and case.members[0].removed_at is not None
    assert [e.kind for e in case.events][-2:] == ["member_added", "member_removed"]
    assert len(entries(AuditAction.CASE_MEMBER_ADDED)) == len(entries(AuditAction.CASE_MEMBER_REMOVED)) == 1


def test_notes_are_appended_by_the_team_with_author_and_time(client, world):
    case = open_case(world)
    services.add_member(actor=world.psy1, case=case, version=case.version, user_id=world.soc1.id)
    login(client, world.soc1)
    assert _send(client, case, "notes", "note", body=f"{NOTE_MARKER} визит домой").status_code == 302
    assert _send(client, case, "notes", "note", body="").status_code == 400
    (note,) = db.session.execute(select(CaseNote)).scalars()
    assert note.author_id == world.soc1.id and note.body == f"{NOTE_MARKER} визит домой"
    page = _case_page(client, case)
    assert f"{NOTE_MARKER} визит домой" in page and world.soc1.display_name in page
    assert 'name="risk-risk"' not in page  # a social pedagogue adds notes; the psychologist manages the case
    (added,) = entries(AuditAction.CASE_NOTE_ADDED)
    assert added.pupil_id == world.p1.id and NOTE_MARKER not in added.details


def test_one_click_from_the_alert_opens_a_case_and_resolves_the_alert(client, world):
    alert = acute_alert(world)
    login(client, world.psy1)
    inbox = client.get("/screening/alerts").get_data(as_text=True)
    assert f"/monitoring/alerts/{alert.uuid}/case" in inbox and "Open a case" in inbox
    response = post(client, f"/monitoring/alerts/{alert.uuid}/case", form_page="/screening/alerts")
    assert response.status_code == 302
    case = db.session.execute(select(MonitoringCase)).scalar_one()
    assert response.headers["Location"].endswith(f"/monitoring/cases/{case.uuid}")
    db.session.expire_all()
    alert = db.session.get(Alert, alert.id)
    assert alert.resolved_at is not None and alert.acknowledged_at is not None
    assert case.uuid in alert.resolution_note
    assert case.risk_level == "acute" and case.origin == "alert" and case.owner_id == world.psy1.id
    (linked,) = [e for e in case.events if e.kind == "alert_linked"]
    assert linked.data["alert"] == alert.uuid and linked.data["severity"] == "acute"
    assert entries(AuditAction.CASE_ALERT_LINKED, pupil_id=world.p1.id)
    (resolved,) = entries(AuditAction.ALERT_RESOLVED)
    assert resolved.pupil_id is None and case.uuid not in resolved.details  # alert entries name no pupil
    assert f"/monitoring/alerts/{alert.uuid}/case" not in client.get("/screening/alerts").get_data(as_text=True)


def test_a_second_alert_joins_the_open_case(client, world):
    case = open_case(world)
    alert = acute_alert(world)
    login(client, world.psy2)  # not on the team: the alert still goes into the pupil's one case
    inbox = client.get("/screening/alerts").get_data(as_text=True)
    assert "Add to the pupil’s open case" in inbox
    response = post(client, f"/monitoring/alerts/{alert.uuid}/case", form_page="/screening/alerts")
    assert response.status_code == 302 and response.headers["Location"].endswith("/screening/alerts")
    db.session.expire_all()
    assert db.session.execute(select(func.count()).select_from(MonitoringCase)).scalar_one() == 1
    assert [e.kind for e in case.events] == ["opened", "alert_linked"]
    assert db.session.get(Alert, alert.id).resolved_at is not None
    assert case.risk_level == "high"  # the owner reviews the risk; adding an alert does not change it


def test_opening_from_an_alert_is_one_transaction(client, world, monkeypatch):
    alert = acute_alert(world)
    login(client, world.psy1)
    real = audit_module.record

    def failing(actor, action, **kwargs):
        if action == AuditAction.CASE_ALERT_LINKED:
            raise audit_module.AuditUnavailable(str(action))
        return real(actor, action, **kwargs)

    monkeypatch.setattr(audit_module, "record", failing)
    response = post(client, f"/monitoring/alerts/{alert.uuid}/case", form_page="/screening/alerts")
    assert response.status_code == 503
    db.session.rollback()
    assert db.session.execute(select(func.count()).select_from(MonitoringCase)).scalar_one() == 0
    assert db.session.execute(select(func.count()).select_from(CaseEvent)).scalar_one() == 0
    assert db.session.get(Alert, alert.id).resolved_at is None


def test_an_alert_resolved_already_is_not_taken_twice(client, world):
    alert = acute_alert(world)
    services.case_from_alert(actor=world.psy1, alert=alert)
    login(client, world.psy1)
    response = post(client, f"/monitoring/alerts/{alert.uuid}/case", form_page="/screening/alerts")
    assert response.status_code == 302
    assert len([e for e in db.session.execute(select(CaseEvent)).scalars() if e.kind == "alert_linked"]) == 1


def test_caseload_shows_risk_in_words_status_and_overdue_reviews(client, world):
    case = open_case(world, risk=RiskLevel.ACUTE)
    services.set_review_date(actor=world.psy1, case=case, version=case.version,
                             next_review_on=utcnow().date().replace(year=2020))
    open_case(world, pupil=world.p2, risk=RiskLevel.LOW)
    login(client, world.psy1)
    page = client.get("/monitoring/cases").get_data(as_text=True)
    assert "Acute risk" in page and "Low risk" in page and "Overdue" in page and "Open" in page
    assert page.index(world.p1.last_name) < page.index(world.p2.last_name)  # most serious first
    (listed,) = entries(AuditAction.CASE_LIST_READ)
    assert '"count": 2' in listed.details
    history = _case_page(client, case)
    assert "Next review date set" in history and "2020" in history
