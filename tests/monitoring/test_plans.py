"""Safety plans (versioned, helplines always on them, the pupil's printed copy in three languages) and support plans
(actions with responsible person, due date, outcome and status; reviews), through the pages and the services."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask

from app.core.audit import AuditAction
from app.extensions import db
from app.monitoring import plans, services
from app.monitoring.conflicts import EditConflict
from app.monitoring.models import CaseStatus
from app.monitoring.plan_models import ActionStatus, PlanKind, SafetySection
from tests.factories import csrf_token
from tests.monitoring.support import NOTE_MARKER, entries, open_case
from tests.security.helpers import signed_in

CONTENT = {"warning_signs": "Мне не хочется ни с кем говорить", "coping": "Слушать музыку\nГулять с собакой",
           "distraction": "Двор у дома", "people": "Мама +7 700 000 00 00", "professionals": "Школьный психолог",
           "environment": "Родители договорились, что дома всё опасное убрано"}


def _plan_form(client, case_uuid: str, version: str = "", **overrides: str) -> dict[str, str]:
    data = {f"plan-{key}": value for key, value in {**CONTENT, **overrides}.items()}
    data["plan-csrf_token"] = csrf_token(client, f"/monitoring/cases/{case_uuid}/safety-plan")
    data["plan-version"] = version
    data["plan-review_on"] = "2026-12-20"
    return data


def test_saving_keeps_every_version_and_the_helplines(app: Flask, world) -> None:
    case = open_case(world)
    client = signed_in(app, world.psy1)
    path = f"/monitoring/cases/{case.uuid}/safety-plan"
    assert client.post(f"{path}/save", data=_plan_form(client, case.uuid)).status_code == 302
    plan = plans.safety_plan_of(case)
    assert plan is not None and plan.review_on == date(2026, 12, 20)
    professionals = plan.content[SafetySection.PROFESSIONALS.value]
    assert all(number in professionals for number in ("150", "111", "112"))  # added to what was typed

    second = _plan_form(client, case.uuid, version=str(plan.version), coping="Рисовать")
    assert client.post(f"{path}/save", data=second).status_code == 302
    db.session.expire_all()
    assert plan.content["coping"] == "Рисовать"
    assert [v.number for v in plan.versions] == [2, 1]
    assert plan.versions[1].content["coping"] == "Слушать музыку\nГулять с собакой"  # the previous one, kept
    page = client.get(path).get_data(as_text=True)
    assert "Version 1" in page and "Гулять с собакой" in page and "Version 2" not in page  # 2 is shown above
    assert len(entries(AuditAction.SAFETY_PLAN_SAVED, pupil_id=world.p1.id)) == 2


def test_a_new_plan_starts_with_the_helplines(app: Flask, world) -> None:
    case = open_case(world)
    page = signed_in(app, world.psy1).get(f"/monitoring/cases/{case.uuid}/safety-plan").get_data(as_text=True)
    assert "150\n111\n112" in page


def test_a_stale_safety_plan_form_gets_the_conflict_page_and_loses_nothing(app: Flask, world) -> None:
    case = open_case(world)
    services.add_member(actor=world.psy1, case=case, version=case.version, user_id=world.psy2.id)
    first, second = signed_in(app, world.psy1), signed_in(app, world.psy2)
    path = f"/monitoring/cases/{case.uuid}/safety-plan/save"
    assert first.post(path, data=_plan_form(first, case.uuid)).status_code == 302
    plan = plans.safety_plan_of(case)
    loaded = str(plan.version)
    assert first.post(path, data=_plan_form(first, case.uuid, version=loaded, coping="Первый")).status_code == 302
    stale = second.post(path, data=_plan_form(second, case.uuid, version=loaded, coping="Второй"))
    assert stale.status_code == 409
    page = stale.get_data(as_text=True)
    assert "Someone changed this safety plan" in page and "Второй" in page and "Первый" in page
    db.session.expire_all()
    assert plan.content["coping"] == "Первый" and len(plan.versions) == 2
    (conflict,) = entries(AuditAction.EDIT_CONFLICT)
    assert conflict.object_type == "safety_plan" and conflict.pupil_id == world.p1.id


@pytest.mark.parametrize(("language", "words"), [
    ("kk", "Менің қауіпсіздік жоспарым"), ("ru", "Мой план безопасности"), ("en", "My safety plan")])
def test_the_pupil_s_copy_prints_in_each_language_with_the_helplines(app: Flask, world, language, words) -> None:
    case = open_case(world)
    plans.save_safety_plan(actor=world.psy1, case=case, version=None, content=CONTENT, review_on=None)
    response = signed_in(app, world.psy1).get(f"/monitoring/cases/{case.uuid}/safety-plan/print?lang={language}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert words in page and "Гулять с собакой" in page
    for number in ("tel:150", "tel:111", "tel:112"):
        assert number in page
    assert "High risk" not in page and "Высокий риск" not in page  # the pupil's copy names no risk level
    assert entries(AuditAction.SAFETY_PLAN_PRINTED, pupil_id=world.p1.id)


def test_the_team_reads_the_plan_but_only_its_psychologists_change_it(app: Flask, world) -> None:
    case = open_case(world)
    services.add_member(actor=world.psy1, case=case, version=case.version, user_id=world.soc1.id)
    plans.save_safety_plan(actor=world.psy1, case=case, version=None, content=CONTENT, review_on=None)
    client = signed_in(app, world.soc1)
    page = client.get(f"/monitoring/cases/{case.uuid}/safety-plan").get_data(as_text=True)
    assert "Гулять с собакой" in page and "Save the safety plan" not in page
    token = csrf_token(client, f"/monitoring/cases/{case.uuid}/follow-ups")
    assert client.post(f"/monitoring/cases/{case.uuid}/safety-plan/save",
                       data={"plan-csrf_token": token}).status_code == 403


def test_support_plan_actions_outcomes_and_reviews(app: Flask, world) -> None:
    case = open_case(world)
    client = signed_in(app, world.psy1)
    path = f"/monitoring/cases/{case.uuid}/support-plan"
    token = csrf_token(client, path)
    added = client.post(f"{path}/actions", data={"action-csrf_token": token, "action-action": "Беседа раз в неделю",
                                                 "action-responsible": "Классный руководитель",
                                                 "action-due_on": "2026-12-15"})
    assert added.status_code == 302
    plan = plans.support_plan_of(case)
    (row,) = plan.actions
    assert row.details["responsible"] == "Классный руководитель" and row.due_on == date(2026, 12, 15)
    updated = client.post(f"{path}/actions/{row.uuid}", data={
        f"a{row.id}-csrf_token": token, f"a{row.id}-status": "done", f"a{row.id}-outcome": "Ходит на беседы",
        f"a{row.id}-due_on": "2026-12-15", f"a{row.id}-version": str(row.version)})
    assert updated.status_code == 302
    db.session.expire_all()
    assert row.status == ActionStatus.DONE.value and row.details["outcome"] == "Ходит на беседы"
    stale = client.post(f"{path}/actions/{row.uuid}", data={
        f"a{row.id}-csrf_token": token, f"a{row.id}-status": "not_done", f"a{row.id}-outcome": "x",
        f"a{row.id}-version": "1"})
    assert stale.status_code == 409
    reviewed = client.post(f"/monitoring/cases/{case.uuid}/plans/support/review", data={
        "review-csrf_token": token, "review-note": "План работает", "review-next_review_on": "2027-01-20"})
    assert reviewed.status_code == 302
    db.session.expire_all()
    assert plan.review_on == date(2027, 1, 20)
    assert [r.note for r in plans.reviews_of(case, PlanKind.SUPPORT)] == ["План работает"]
    assert "План работает" in client.get(path).get_data(as_text=True)


def test_another_case_s_action_id_is_a_404(app: Flask, world) -> None:
    mine = open_case(world)
    other = open_case(world, pupil=world.p2)
    row = plans.add_action(actor=world.psy1, case=other, action="a", responsible="b", due_on=None)
    client = signed_in(app, world.psy1)
    token = csrf_token(client, f"/monitoring/cases/{mine.uuid}/support-plan")
    response = client.post(f"/monitoring/cases/{mine.uuid}/support-plan/actions/{row.uuid}",
                           data={f"a{row.id}-csrf_token": token})
    assert response.status_code == 404


def test_a_closed_case_s_plans_do_not_change(world) -> None:
    case = open_case(world)
    for status in (CaseStatus.ACTIVE, CaseStatus.REVIEW, CaseStatus.CLOSED):
        services.change_status(actor=world.psy1, case=case, version=case.version, status=status, reason="r")
    with pytest.raises(services.CaseClosed):
        plans.save_safety_plan(actor=world.psy1, case=case, version=None, content=CONTENT, review_on=None)
    with pytest.raises(services.CaseClosed):
        plans.add_action(actor=world.psy1, case=case, action="a", responsible="b", due_on=None)


def test_the_service_refuses_a_stale_version(world) -> None:
    case = open_case(world)
    plan = plans.save_safety_plan(actor=world.psy1, case=case, version=None, content=CONTENT, review_on=None)
    with pytest.raises(EditConflict):
        plans.save_safety_plan(actor=world.psy1, case=case, version=plan.version + 1,
                               content={"coping": NOTE_MARKER}, review_on=None)
    assert NOTE_MARKER not in plans.safety_plan_of(case).content["coping"]


def _stale_read(monkeypatch, name: str) -> None:
    """The next read of the case's plan finds none, as for a save that read just before another one committed."""
    real = getattr(plans, name)
    calls = {"n": 0}

    def first_sees_none(case):
        calls["n"] += 1
        return None if calls["n"] == 1 else real(case)

    monkeypatch.setattr(plans, name, first_sees_none)


def test_two_first_safety_plans_at_once_the_second_gets_the_conflict_page(app: Flask, world, monkeypatch) -> None:
    case = open_case(world)
    services.add_member(actor=world.psy1, case=case, version=case.version, user_id=world.psy2.id)
    first, second = signed_in(app, world.psy1), signed_in(app, world.psy2)
    path = f"/monitoring/cases/{case.uuid}/safety-plan/save"
    mine = _plan_form(second, case.uuid, coping="Второй")  # both loaded the empty plan (no version)
    assert first.post(path, data=_plan_form(first, case.uuid, coping="Первый")).status_code == 302
    _stale_read(monkeypatch, "safety_plan_of")  # the second save read "no plan" before the first committed
    response = second.post(path, data=mine)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Someone changed this safety plan" in page and "Второй" in page and "Первый" in page
    monkeypatch.undo()
    db.session.expire_all()
    plan = plans.safety_plan_of(case)
    assert plan.content["coping"] == "Первый" and [v.number for v in plan.versions] == [1]
    assert len(entries(AuditAction.SAFETY_PLAN_SAVED)) == 1
    (conflict,) = entries(AuditAction.EDIT_CONFLICT)
    assert conflict.object_type == "safety_plan" and conflict.pupil_id == world.p1.id
    # Sending the conflict page's form again saves over the current version: nothing typed was lost.
    again = _plan_form(second, case.uuid, version=str(plan.version), coping="Второй")
    assert second.post(path, data=again).status_code == 302
    db.session.expire_all()
    assert plans.safety_plan_of(case).content["coping"] == "Второй"


def test_two_first_support_actions_at_once_both_are_kept_in_one_plan(world, monkeypatch) -> None:
    case = open_case(world)
    plans.add_action(actor=world.psy1, case=case, action="talk weekly", responsible="psy1", due_on=None)
    _stale_read(monkeypatch, "support_plan_of")
    plans.add_action(actor=world.psy2, case=case, action="call the mother", responsible="psy2", due_on=None)
    monkeypatch.undo()
    db.session.expire_all()
    plan = plans.support_plan_of(case)
    assert sorted(a.details["action"] for a in plan.actions) == ["call the mother", "talk weekly"]
    assert len(entries(AuditAction.SUPPORT_ACTION_ADDED)) == 2
