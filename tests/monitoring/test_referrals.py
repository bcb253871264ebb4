"""Referrals (sent → accepted → outcome / declined) and the inter-agency steps on high and acute cases, through
the pages: audited with the pupil only, encrypted at rest, stale forms get the conflict page, and what is overdue
(with the clock frozen) shows on the caseload and, as numbers only, to the school administrator."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text

from app.core.audit import AuditAction
from app.extensions import db
from app.monitoring import referrals, services
from app.monitoring.models import RiskLevel
from app.monitoring.referral_models import Referral, ReferralDestination, ReferralStatus
from tests.factories import csrf_token, login
from tests.monitoring.support import NOTE_MARKER, entries, open_case
from tests.security.helpers import all_text_values, contains


def _send(client, case, path: str, prefix: str, **fields):
    page = f"/monitoring/cases/{case.uuid}"
    data = {f"{prefix}-{name}": value for name, value in fields.items()}
    data[f"{prefix}-csrf_token"] = csrf_token(client, page)
    return client.post(f"{page}/{path}", data=data)


def _refer(world, case, deadline: date = date(2026, 9, 8)) -> Referral:
    return referrals.create_referral(actor=world.psy1, case=case, destination=ReferralDestination.POLICE,
                                     reason=f"{NOTE_MARKER} направление", sent_on=date(2026, 9, 1), deadline=deadline)


def _keys(case) -> list[str]:
    return sorted(s.data["key"] for s in referrals.case_steps(case) if s.done_at is None)


# --- referrals ------------------------------------------------------------------------------------------------


def test_a_referral_is_recorded_from_the_case_page_and_audited(client, world):
    case = open_case(world, risk=RiskLevel.MODERATE)
    login(client, world.psy1)
    response = _send(client, case, "referrals", "referral", destination="support_centre",
                     reason="Нужна консультация", sent_on="2026-09-01", deadline="2026-09-10")
    assert response.status_code == 302
    referral = db.session.execute(select(Referral)).scalar_one()
    assert referral.destination == "support_centre" and referral.status == "sent"
    assert referral.deadline == date(2026, 9, 10)
    page = client.get(f"/monitoring/cases/{case.uuid}").get_data(as_text=True)
    assert "Psychological support centre" in page and "Нужна консультация" in page
    (created,) = entries(AuditAction.REFERRAL_CREATED)
    assert created.pupil_id == world.p1.id and created.school_id == world.s1.id and created.object_id == referral.uuid


def test_a_deadline_before_the_sending_day_is_refused(client, world):
    case = open_case(world, risk=RiskLevel.MODERATE)
    login(client, world.psy1)
    response = _send(client, case, "referrals", "referral", destination="police", reason="x",
                     sent_on="2026-09-05", deadline="2026-09-01")
    assert response.status_code == 400 and db.session.execute(select(Referral)).first() is None


def test_the_referral_workflow_and_its_refusals(client, world):
    case = open_case(world, risk=RiskLevel.MODERATE)
    referral = _refer(world, case)
    login(client, world.psy1)
    path = f"referrals/{referral.uuid}"
    prefix = f"r{referral.id}"
    # An outcome before acceptance is refused; an outcome without its text too.
    assert _send(client, case, path, prefix, status="outcome", text="seen", version=referral.version).status_code == 400
    assert _send(client, case, path, prefix, status="accepted", version=referral.version).status_code == 302
    db.session.refresh(referral)
    assert referral.status == "accepted"
    assert _send(client, case, path, prefix, status="outcome", text="", version=referral.version).status_code == 400
    response = _send(client, case, path, prefix, status="outcome", text=f"{NOTE_MARKER} осмотрен",
                     on="2026-09-06", version=referral.version)
    assert response.status_code == 302
    db.session.refresh(referral)
    assert referral.status == "outcome" and referral.outcome_on == date(2026, 9, 6)
    assert referral.outcome == f"{NOTE_MARKER} осмотрен"
    # Final: nothing more.
    assert _send(client, case, path, prefix, status="declined", text="no", version=referral.version).status_code == 400
    updates = entries(AuditAction.REFERRAL_UPDATED)
    assert [(e.pupil_id, e.object_id) for e in updates] == [(world.p1.id, referral.uuid)] * 2
    assert NOTE_MARKER not in "".join(e.details or "" for e in updates)


def test_a_declined_referral_keeps_its_reason(world):
    case = open_case(world, risk=RiskLevel.MODERATE)
    referral = _refer(world, case)
    with pytest.raises(referrals.TextRequired):
        referrals.update_referral(actor=world.psy1, referral=referral, version=referral.version,
                                  status=ReferralStatus.DECLINED, text=" ", on=None)
    referrals.update_referral(actor=world.psy1, referral=referral, version=referral.version,
                              status=ReferralStatus.DECLINED, text="no places", on=date(2026, 9, 2))
    assert referral.status == "declined" and referral.outcome == "no places"


def test_a_stale_referral_form_gets_the_conflict_page_and_keeps_the_text(app, world):
    case = open_case(world, risk=RiskLevel.MODERATE)
    referral = _refer(world, case)
    stale = referral.version
    referrals.update_referral(actor=world.psy1, referral=referral, version=stale, status=ReferralStatus.ACCEPTED,
                              text=None, on=None)
    client = app.test_client()
    login(client, world.psy1)
    response = _send(client, case, f"referrals/{referral.uuid}", f"r{referral.id}", status="declined",
                     text="my typed outcome", version=stale)
    assert response.status_code == 409
    assert "my typed outcome" in response.get_data(as_text=True)
    db.session.refresh(referral)
    assert referral.status == "accepted"
    assert entries(AuditAction.EDIT_CONFLICT, object_id=referral.uuid)


def test_a_referral_of_another_case_is_a_404_tied_to_the_pupil(client, world):
    case = open_case(world, risk=RiskLevel.MODERATE)
    other = open_case(world, pupil=world.p2, owner=world.psy1, risk=RiskLevel.MODERATE)
    referral = _refer(world, other)
    login(client, world.psy1)
    response = _send(client, case, f"referrals/{referral.uuid}", f"r{referral.id}", status="accepted",
                     version=referral.version)
    assert response.status_code == 404
    assert entries(AuditAction.ACCESS_DENIED)[-1].pupil_id == world.p1.id


def test_referrals_and_steps_are_not_in_plaintext(world):
    case = open_case(world, risk=RiskLevel.ACUTE)
    referral = _refer(world, case)
    referrals.update_referral(actor=world.psy1, referral=referral, version=referral.version,
                              status=ReferralStatus.DECLINED, text=f"{NOTE_MARKER} отказ", on=None)
    step = referrals.case_steps(case)[0]
    referrals.complete_step(actor=world.psy1, step=step, version=step.version, note=f"{NOTE_MARKER} позвонили")
    for table, column, value in all_text_values(tables=["case_referrals", "case_steps"]):
        for word in (NOTE_MARKER, "police", "acute", "inform_police", "call_emergency"):
            assert not contains(value, word), f"{table}.{column} holds {word}"
    raw = db.session.execute(text("SELECT destination_ct FROM case_referrals")).scalar_one()
    assert bytes(raw)[2:2 + len(f"s{world.s1.id}-1")] == f"s{world.s1.id}-1".encode()


# --- the algorithm's steps ------------------------------------------------------------------------------------


def test_high_and_acute_risk_put_the_algorithm_s_steps_on_the_case(world):
    assert referrals.case_steps(open_case(world, pupil=world.p2, risk=RiskLevel.MODERATE)) == []
    case = open_case(world, risk=RiskLevel.HIGH)
    assert _keys(case) == ["inform_administrator", "inform_parents", "refer_specialist"]
    services.change_risk(actor=world.psy1, case=case, version=case.version, risk=RiskLevel.ACUTE, reason="worse")
    # The acute steps are added; a step already open (same key) is not added twice.
    assert _keys(case) == sorted(["call_emergency", "inform_administrator", "inform_parents", "inform_police",
                                  "inform_support_centre", "refer_specialist", "stay_with_pupil"])
    due = {s.data["key"]: s.due_at - s.created_at for s in referrals.case_steps(case) if s.data["level"] == "acute"}
    assert due["call_emergency"] == timedelta(0) and due["inform_police"] == timedelta(hours=24)


def test_the_steps_show_as_a_checklist_and_a_team_member_ticks_one_off(client, world):
    case = open_case(world, risk=RiskLevel.ACUTE)
    services.add_member(actor=world.psy1, case=case, version=case.version, user_id=world.soc1.id)
    login(client, world.soc1)
    page = client.get(f"/monitoring/cases/{case.uuid}").get_data(as_text=True)
    assert "Inter-agency steps" in page and "112" in page
    assert "To be confirmed by the regional education department" in page
    step = next(s for s in referrals.case_steps(case) if s.data["key"] == "inform_parents")
    response = _send(client, case, f"steps/{step.uuid}", "step", note="Мама придёт в 15:00", version=step.version)
    assert response.status_code == 302
    db.session.refresh(step)
    assert step.done_by_id == world.soc1.id and step.done_at is not None and step.note == "Мама придёт в 15:00"
    (done,) = entries(AuditAction.CASE_STEP_DONE)
    assert done.pupil_id == world.p1.id and done.object_id == step.uuid
    # Ticking it again from the old form is the conflict page.
    again = _send(client, case, f"steps/{step.uuid}", "step", note="again", version=step.version - 1)
    assert again.status_code == 409


FROZEN = datetime(2026, 9, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def frozen(monkeypatch):
    """The clock of the overdue checks, frozen at FROZEN (steps are planned from it too)."""
    monkeypatch.setattr(referrals, "utcnow", lambda: FROZEN)
    return FROZEN


def test_overdue_referrals_and_steps_with_the_clock_frozen(world, frozen, monkeypatch):
    case = open_case(world, risk=RiskLevel.HIGH)  # steps due 24 h and 3 days after FROZEN
    _refer(world, case, deadline=date(2026, 9, 25))
    assert referrals.overdue_summary(actor=world.psy1).by_case == {}
    monkeypatch.setattr(referrals, "utcnow", lambda: FROZEN + timedelta(hours=25))
    late = referrals.overdue_summary(actor=world.psy1).by_case[case.uuid]
    assert (late.referrals, late.steps) == (0, 2)
    monkeypatch.setattr(referrals, "utcnow", lambda: FROZEN + timedelta(days=6))
    late = referrals.overdue_summary(actor=world.psy1).by_case[case.uuid]
    assert (late.referrals, late.steps) == (1, 3)
    # Done steps and answered referrals are not overdue; a closed case counts for nothing.
    step = referrals.case_steps(case)[0]
    referrals.complete_step(actor=world.psy1, step=step, version=step.version, note=None)
    assert referrals.overdue_summary(actor=world.psy1).by_case[case.uuid].steps == 2


def test_the_caseload_and_the_school_administrator_see_what_is_overdue(app, world, frozen, monkeypatch):
    case = open_case(world, risk=RiskLevel.HIGH)
    _refer(world, case, deadline=date(2026, 9, 21))
    monkeypatch.setattr(referrals, "utcnow", lambda: FROZEN + timedelta(days=4))
    psy = app.test_client()
    login(psy, world.psy1)
    page = psy.get("/monitoring/cases").get_data(as_text=True)
    assert "1 referral past its deadline" in page and "3 inter-agency steps not done in time" in page
    assert "3 items" not in page and "4 items" in page
    # The director is not on the team: the school's numbers, no pupil, no case.
    director = app.test_client()
    login(director, world.a1)
    page = director.get("/monitoring/cases").get_data(as_text=True)
    assert "Overdue in the whole school" in page and "1 referral past its deadline" in page
    assert case.uuid not in page and world.p1.last_name not in page
    # Another school's director would not count this school.
    assert referrals.overdue_summary(actor=world.psy3).schools == []
