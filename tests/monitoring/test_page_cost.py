"""Issue 10 item 15: the caseload page and a pupil's chronology page issue a fixed number of SQL statements, the
menu's counts (open alerts, overdue follow-ups) included, whether there are 3 cases and records or 30."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.monitoring import followups, plans, referrals, registry, services
from app.monitoring.plan_models import ContactWay, PlanKind
from app.monitoring.referral_models import ReferralDestination
from tests.factories import make_pupil, sql_statements
from tests.monitoring.support import acute_alert, open_case, register
from tests.security.helpers import signed_in


def _page(client: FlaskClient, path: str, *must_show: str) -> int:
    """Statements of one GET of ``path`` (after a first one, so both sizes are measured alike)."""
    assert client.get(path).status_code == 200
    db.session.expire_all()
    with sql_statements() as seen:
        response = client.get(path)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for text in must_show:
        assert text in page, text
    assert "follow-ups overdue" in page or "follow-up overdue" in page  # the menu's count was computed
    return len(seen)


def _case_with_records(world, pupil, n: int):
    """A case of psy1 with ``n`` records of every kind (late follow-ups and referrals, so the counts show)."""
    case = services.open_case_of(pupil.id) or open_case(world, pupil=pupil)
    services.add_member(actor=world.psy1, case=case, version=case.version, user_id=world.soc1.id)
    plan = None
    for i in range(n):
        services.add_note(actor=world.psy1, case=case, body=f"note {i}")
        followups.record_followup(actor=world.psy1, pupil=pupil, case=case, done_on=date(2026, 1, 1)
                                  + timedelta(days=i), done=f"done {i}", outcome="", next_on=None)
        followups.record_parent_contact(actor=world.psy1, case=case, contacted_on=date(2026, 1, 2),
                                        way=ContactWay.PHONE, summary=f"contact {i}")
        referrals.create_referral(actor=world.psy1, case=case, destination=ReferralDestination.SPECIALIST,
                                  reason=f"referral {i}", sent_on=date(2026, 1, 1), deadline=date(2026, 1, 8))
        plan = plans.save_safety_plan(actor=world.psy1, case=case, version=plan.version if plan else None,
                                      content={"coping": f"v{i}"}, review_on=None)
        plans.review_plan(actor=world.psy1, case=case, kind=PlanKind.SAFETY, note=f"review {i}",
                          next_review_on=None)
    return case


def _school(world, cases: int, first: int = 0) -> None:
    """``cases`` more open cases of psy1, each with a registry entry, an open alert and a few records."""
    for i in range(first, first + cases):
        pupil = world.p1 if i == 0 else make_pupil(world.c7a if i % 2 else world.c8b)
        acute_alert(world, pupil)
        register(world, pupil=pupil)
        _case_with_records(world, pupil, 2)
    db.session.commit()


def test_the_caseload_page_costs_the_same_with_3_or_30_cases(app: Flask, world) -> None:
    _school(world, 3)
    client = signed_in(app, world.psy1)
    few = _page(client, "/monitoring/cases", "3 cases")
    _school(world, 27, first=3)
    many = _page(client, "/monitoring/cases", "30 cases")
    assert few == many, (few, many)


def test_the_chronology_page_costs_the_same_with_3_or_30_records_of_each_kind(app: Flask, world) -> None:
    for pupil, n in ((world.p1, 3), (world.p2, 30)):
        for _ in range(n):
            acute_alert(world, pupil)
        entry = register(world, pupil=pupil)
        for i in range(n):
            entry = registry.update_entry(actor=world.soc1, entry=entry, version=entry.version, details=entry.details,
                                          started_on=entry.started_on, next_review_on=date(2026, 11, 1 + i % 28))
        _case_with_records(world, pupil, n)
    client = signed_in(app, world.psy1)
    few = _page(client, f"/monitoring/pupils/{world.p1.uuid}/chronology", "note 2", "review 2", "contact 2")
    many = _page(client, f"/monitoring/pupils/{world.p2.uuid}/chronology", "note 29", "review 29", "Show earlier")
    assert few == many, (few, many)
