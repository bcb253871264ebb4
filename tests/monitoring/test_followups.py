"""Follow-ups: the schedule (monthly by default, per case, by configuration), overdue with a frozen clock, the
overdue page for the psychologist (own cases) and the school administrator (counts, and the cases they are on),
the menu count, registered pupils without a case, contacts with parents."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask import Flask

from app.core.audit import AuditAction
from app.extensions import db
from app.monitoring import followups, services
from app.monitoring.conflicts import EditConflict
from app.monitoring.plan_models import ContactWay
from tests.factories import csrf_token, make_pupil
from tests.monitoring.support import entries, open_case, register
from tests.security.helpers import signed_in

#: The frozen "now" of these tests: 2026-12-06, midday in Kazakhstan.
NOW = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr(followups, "utcnow", lambda: NOW)
    return NOW


def _opened_on(case, day: date) -> None:
    case.opened_at = datetime(day.year, day.month, day.day, 5, tzinfo=UTC)
    db.session.commit()


@pytest.mark.parametrize(("start", "interval", "last_done", "last_next", "due"), [
    (date(2026, 11, 1), 30, None, None, date(2026, 12, 1)),           # none yet: one interval after the start
    (date(2026, 11, 1), 30, date(2026, 11, 20), None, date(2026, 12, 20)),  # one interval after the last
    (date(2026, 11, 1), 30, date(2026, 11, 20), date(2026, 11, 27), date(2026, 11, 27)),  # the date it set
    (date(2026, 11, 1), 7, None, None, date(2026, 11, 8)),
])
def test_due_date(start, interval, last_done, last_next, due) -> None:
    assert followups.due_date(start=start, interval=interval, last_done=last_done, last_next=last_next) == due


def test_overdue_with_a_frozen_clock_default_per_case_and_config(app: Flask, world, frozen) -> None:
    case = open_case(world)
    _opened_on(case, date(2026, 11, 1))
    assert followups.case_due(case) == date(2026, 12, 1)  # monthly by default
    assert followups.overdue_count(actor=world.psy1) == 1
    followups.set_interval(actor=world.psy1, case=case, version=None, days=40)
    assert followups.case_due(case) == date(2026, 12, 11)
    assert followups.overdue_count(actor=world.psy1) == 0
    app.config["SENIM_FOLLOWUP_INTERVAL_DAYS"] = 14
    try:
        other = open_case(world, pupil=world.p2)
        _opened_on(other, date(2026, 11, 20))
        assert followups.case_due(other) == date(2026, 12, 4)  # the configured default
        assert followups.overdue_count(actor=world.psy1) == 1
    finally:
        app.config["SENIM_FOLLOWUP_INTERVAL_DAYS"] = 30


def test_recording_a_follow_up_moves_the_next_date(app: Flask, world, frozen) -> None:
    case = open_case(world)
    _opened_on(case, date(2026, 10, 1))
    client = signed_in(app, world.psy1)
    path = f"/monitoring/cases/{case.uuid}/follow-ups"
    assert "Overdue" in client.get(path).get_data(as_text=True)
    response = client.post(path, data={"followup-csrf_token": csrf_token(client, path),
                                       "followup-done_on": "2026-12-05", "followup-done": "Беседа с учеником",
                                       "followup-outcome": "Спокоен"})
    assert response.status_code == 302
    assert followups.case_due(case) == date(2027, 1, 4)  # no next date given: one interval later
    assert followups.overdue_count(actor=world.psy1) == 0
    (entry,) = entries(AuditAction.FOLLOWUP_RECORDED)
    assert entry.pupil_id == world.p1.id and "Беседа" not in entry.details


def test_the_psychologist_s_page_shows_own_cases_only(app: Flask, world, frozen) -> None:
    mine = open_case(world)
    theirs = open_case(world, pupil=world.p2, owner=world.psy2)
    _opened_on(mine, date(2026, 10, 1))
    _opened_on(theirs, date(2026, 10, 1))
    page = signed_in(app, world.psy1).get("/monitoring/follow-ups").get_data(as_text=True)
    assert mine.uuid in page and theirs.uuid not in page
    assert world.p2.short_name not in page
    assert "1 follow-up overdue" in page
    assert entries(AuditAction.FOLLOWUP_DASHBOARD_READ)


def test_the_administrator_sees_school_counts_and_only_the_cases_they_are_on(app: Flask, world, frozen) -> None:
    first = open_case(world)
    second = open_case(world, pupil=world.p2, owner=world.psy2)
    for case in (first, second):
        _opened_on(case, date(2026, 10, 1))
    client = signed_in(app, world.a1)
    page = client.get("/monitoring/follow-ups").get_data(as_text=True)
    assert first.uuid not in page and second.uuid not in page
    assert world.p1.short_name not in page and world.p2.short_name not in page
    assert "<td>2</td><td>2</td>" in page.replace(" ", "").replace("\n", "")  # two monitored, two overdue
    services.add_member(actor=world.psy1, case=first, version=first.version, user_id=world.a1.id)
    page = client.get("/monitoring/follow-ups").get_data(as_text=True)
    assert first.uuid in page and second.uuid not in page


def test_the_home_page_shows_the_overdue_count(app: Flask, world, frozen) -> None:
    case = open_case(world)
    _opened_on(case, date(2026, 10, 1))
    page = signed_in(app, world.psy1).get("/").get_data(as_text=True)
    assert "1 follow-up overdue" in page


def test_a_registered_pupil_without_a_case_is_followed_up(app: Flask, world, frozen) -> None:
    register(world, pupil=world.p2, started_on=date(2026, 10, 1))
    client = signed_in(app, world.soc1)
    page = client.get("/monitoring/follow-ups").get_data(as_text=True)
    assert world.p2.uuid in page and "Overdue" in page
    path = f"/monitoring/pupils/{world.p2.uuid}/follow-ups"
    response = client.post(path, data={"followup-csrf_token": csrf_token(client, path),
                                       "followup-done_on": "2026-12-06", "followup-done": "Посетил семью",
                                       "followup-next_on": "2026-12-20"})
    assert response.status_code == 302
    assert followups.overdue_count(actor=world.soc1) == 0
    assert "Посетил семью" in client.get(path).get_data(as_text=True)


def test_a_pupil_with_an_open_case_is_followed_up_in_the_case(world, frozen) -> None:
    register(world)
    open_case(world)
    with pytest.raises(services.PupilHasOpenCase):
        followups.record_followup(actor=world.soc1, pupil=world.p1, case=None, done_on=date(2026, 12, 6),
                                  done="x", outcome="", next_on=None)
    with pytest.raises(followups.NotMonitored):
        followups.record_followup(actor=world.soc1, pupil=world.p2, case=None, done_on=date(2026, 12, 6),
                                  done="x", outcome="", next_on=None)
    # A registered pupil with an open case is scheduled once, by the case.
    assert [r.case_uuid is not None for r in followups.my_schedule(actor=world.psy1)] == [True]


def test_a_stale_interval_form_is_a_conflict(app: Flask, world) -> None:
    case = open_case(world)
    setting = followups.set_interval(actor=world.psy1, case=case, version=None, days=20)
    followups.set_interval(actor=world.psy1, case=case, version=setting.version, days=25)
    with pytest.raises(EditConflict):
        followups.set_interval(actor=world.psy1, case=case, version=1, days=10)
    client = signed_in(app, world.psy1)
    path = f"/monitoring/cases/{case.uuid}/follow-ups"
    response = client.post(f"{path}/interval", data={"interval-csrf_token": csrf_token(client, path),
                                                      "interval-days": "10", "interval-version": "1"})
    assert response.status_code == 409
    db.session.expire_all()
    assert followups.interval_of(case)[0] == 25


def test_contacts_with_parents_are_recorded_in_the_case(app: Flask, world) -> None:
    case = open_case(world)
    services.add_member(actor=world.psy1, case=case, version=case.version, user_id=world.soc1.id)
    client = signed_in(app, world.soc1)
    path = f"/monitoring/cases/{case.uuid}/follow-ups"
    response = client.post(f"/monitoring/cases/{case.uuid}/parent-contacts", data={
        "contact-csrf_token": csrf_token(client, path), "contact-contacted_on": "2026-12-02",
        "contact-way": ContactWay.PHONE.value, "contact-summary": "Мама согласна прийти"})
    assert response.status_code == 302
    (contact,) = followups.contacts_of(case)
    assert contact.details == {"way": "phone", "summary": "Мама согласна прийти"}
    page = client.get(path).get_data(as_text=True)
    assert "Мама согласна прийти" in page and "Phone call" in page


def test_the_registry_tab_leads_to_follow_ups_and_the_chronology(app: Flask, world) -> None:
    register(world, pupil=world.p2)
    client = signed_in(app, world.soc1)
    page = client.get(f"/monitoring/pupils/{world.p2.uuid}/registry").get_data(as_text=True)
    assert f"/monitoring/pupils/{world.p2.uuid}/follow-ups" in page
    assert f"/monitoring/pupils/{world.p2.uuid}/chronology" in page
    open_case(world, pupil=world.p2)  # from now on the case holds the follow-ups
    page = client.get(f"/monitoring/pupils/{world.p2.uuid}/registry").get_data(as_text=True)
    assert f"/monitoring/pupils/{world.p2.uuid}/follow-ups" not in page


def test_the_menu_count_agrees_with_the_schedule(app: Flask, world, frozen) -> None:
    """The count is computed from dates only (no pupil loaded); it must say what the schedule says, for cases
    and for registered pupils without a case, whatever the follow-ups recorded."""
    late, fine = open_case(world), open_case(world, pupil=world.p2)
    _opened_on(late, date(2026, 9, 1))
    _opened_on(fine, date(2026, 9, 1))
    for day in (date(2026, 9, 20), date(2026, 10, 1)):  # the latest one counts: due 2026-10-31, late
        followups.record_followup(actor=world.psy1, pupil=world.p1, case=late, done_on=day, done="x", outcome="",
                                  next_on=None)
    followups.record_followup(actor=world.psy1, pupil=world.p2, case=fine, done_on=date(2026, 10, 1), done="x",
                              outcome="", next_on=date(2026, 12, 20))
    registered = make_pupil(world.c7a)
    register(world, pupil=registered, started_on=date(2026, 9, 1))  # no case: monthly from the start, late
    for user in (world.psy1, world.soc1, world.a1, world.psy2):
        schedule = followups.my_schedule(actor=user)
        expected = sum(1 for row in schedule if row.overdue(date(2026, 12, 6)))
        assert followups.overdue_count(actor=user) == expected, user.username
    assert followups.overdue_count(actor=world.psy1) == 2  # the late case and the registered pupil
