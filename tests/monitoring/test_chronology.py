"""A pupil's chronology: everything the viewer may see and nothing more, filters by type and date range, the
reading audited as a read of the pupil, and a query count that does not grow with the history."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import event

from app.core.audit import AuditAction
from app.core.models import utcnow
from app.extensions import db
from app.monitoring import followups, plans, registry, services
from app.monitoring.chronology import EntryType, chronology, chronology_page
from app.monitoring.plan_models import ContactWay, PlanKind
from tests.monitoring.support import acute_alert, entries, open_case, register
from tests.security.helpers import signed_in


@pytest.fixture(autouse=True)
def _words(app: Flask):
    """The chronology's lines are worded in the interface language: the service runs in a request's context."""
    with app.test_request_context():
        yield


def _history(world, pupil, n: int) -> None:
    """``n`` records of every kind for ``pupil``: screenings with alerts, registry changes, case changes, notes,
    plan saves and reviews, follow-ups, contacts with parents."""
    for _ in range(n):
        acute_alert(world, pupil)
    entry = register(world, pupil=pupil)
    for i in range(n - 1):
        entry = registry.update_entry(actor=world.soc1, entry=entry, version=entry.version, details=entry.details,
                                      started_on=entry.started_on, next_review_on=date(2026, 11, 1 + i))
    case = services.open_case_of(pupil.id) or open_case(world, pupil=pupil)
    plan = None
    for i in range(n):
        services.add_note(actor=world.psy1, case=case, body=f"note {i}")
        followups.record_followup(actor=world.psy1, pupil=pupil, case=case, done_on=date(2026, 11, 1) +
                                  timedelta(days=i), done=f"done {i}", outcome="", next_on=None)
        followups.record_parent_contact(actor=world.psy1, case=case, contacted_on=date(2026, 11, 2),
                                        way=ContactWay.PHONE, summary=f"contact {i}")
        plan = plans.save_safety_plan(actor=world.psy1, case=case, version=plan.version if plan else None,
                                      content={"coping": f"v{i}"}, review_on=None)
        plans.review_plan(actor=world.psy1, case=case, kind=PlanKind.SAFETY, note=f"review {i}",
                          next_review_on=None)
        services.set_review_date(actor=world.psy1, case=case, version=case.version,
                                 next_review_on=date(2027, 1, 1) + timedelta(days=i))


def _statements(callback) -> tuple[int, object]:
    count = 0

    def counter(*_args, **_kwargs):
        nonlocal count
        count += 1

    event.listen(db.engine, "before_cursor_execute", counter)
    try:
        result = callback()
    finally:
        event.remove(db.engine, "before_cursor_execute", counter)
    return count, result


def test_the_query_count_does_not_grow_with_the_history(world) -> None:
    _history(world, world.p1, 1)
    _history(world, world.p2, 20)
    db.session.expire_all()
    few, small = _statements(lambda: chronology(actor=world.psy1, pupil=world.p1))
    db.session.expire_all()
    many, large = _statements(lambda: chronology(actor=world.psy1, pupil=world.p2))
    assert len(large) > 10 * len(small) // 2 and len(large) >= 20 * 8
    assert few == many, (few, many)


def test_everything_the_owner_may_see_newest_first(app: Flask, world) -> None:
    _history(world, world.p1, 1)
    found = chronology(actor=world.psy1, pupil=world.p1)
    assert {e.type for e in found} == set(EntryType)
    assert [e.at for e in found] == sorted((e.at for e in found), reverse=True)
    page = signed_in(app, world.psy1).get(f"/monitoring/pupils/{world.p1.uuid}/chronology").get_data(as_text=True)
    for text in ("note 0", "done 0", "contact 0", "review 0", "Screening alert raised", "Registered"):
        assert text in page, text
    read = entries(AuditAction.CHRONOLOGY_READ)
    assert read and read[-1].pupil_id == world.p1.id and read[-1].object_type == "pupil"


@pytest.mark.parametrize(("role", "types"), [
    # Same school, not on the team: screenings, alerts and the registry, no case record.
    ("psy2", {EntryType.SCREENING, EntryType.ALERT, EntryType.REGISTRY}),
    # Social pedagogue, not on the team: the registry only.
    ("soc1", {EntryType.REGISTRY}),
    # School administrator, not on the team: the registry only.
    ("a1", {EntryType.REGISTRY}),
])
def test_each_viewer_sees_only_what_they_may(world, role, types) -> None:
    _history(world, world.p1, 1)
    assert {e.type for e in chronology(actor=getattr(world, role), pupil=world.p1)} == types


def test_a_team_member_sees_the_case_records(world) -> None:
    _history(world, world.p1, 1)
    case = services.open_case_of(world.p1.id)
    services.add_member(actor=world.psy1, case=case, version=case.version, user_id=world.soc1.id)
    seen = {e.type for e in chronology(actor=world.soc1, pupil=world.p1)}
    assert EntryType.NOTE in seen and EntryType.PARENT_CONTACT in seen and EntryType.SCREENING not in seen


def test_other_schools_and_roles_without_it_are_refused(app: Flask, world) -> None:
    _history(world, world.p1, 1)
    path = f"/monitoring/pupils/{world.p1.uuid}/chronology"
    assert signed_in(app, world.psy3).get(path).status_code == 404
    assert signed_in(app, world.t7a).get(path).status_code == 403
    assert signed_in(app, world.d1).get(path).status_code == 403
    denied = entries(AuditAction.ACCESS_DENIED)
    assert len(denied) == 3 and {e.pupil_id for e in denied} == {world.p1.id}


def test_filters_by_type_and_date_range(app: Flask, world) -> None:
    _history(world, world.p1, 1)
    case = services.open_case_of(world.p1.id)
    followups.record_followup(actor=world.psy1, pupil=world.p1, case=case, done_on=date(2026, 9, 1), done="early",
                              outcome="", next_on=None)
    only_followups = chronology(actor=world.psy1, pupil=world.p1, types={EntryType.FOLLOWUP})
    assert {e.detail for e in only_followups} == {"done 0", "early"}
    ranged = chronology(actor=world.psy1, pupil=world.p1, types={EntryType.FOLLOWUP}, start=date(2026, 8, 1),
                        end=date(2026, 9, 30))
    assert [e.detail for e in ranged] == ["early"]
    today = utcnow().date()
    assert not chronology(actor=world.psy1, pupil=world.p1, start=today + timedelta(days=400))
    client = signed_in(app, world.psy1)
    page = client.get(f"/monitoring/pupils/{world.p1.uuid}/chronology",
                      query_string={"type": ["followup", "note"], "from": "2026-08-01", "to": "2026-09-30"})
    text = page.get_data(as_text=True)
    assert "early" in text and "done 0" not in text and "note 0" not in text
    # A type the viewer may not see is ignored, not shown.
    soc = signed_in(app, world.soc1).get(f"/monitoring/pupils/{world.p1.uuid}/chronology",
                                         query_string={"type": "note"}).get_data(as_text=True)
    assert "note 0" not in soc


def test_pages_show_whole_days_and_together_hold_everything(app: Flask, world) -> None:
    """Follow-ups on 40 days, two a day: pages of 15 lines never split a day, and "show earlier" (the "to" filter)
    walks back through all of them exactly once."""
    case = open_case(world)
    for i in range(40):
        for part in ("a", "b"):
            followups.record_followup(actor=world.psy1, pupil=world.p1, case=case,
                                      done_on=date(2026, 1, 1) + timedelta(days=i), done=f"day {i} {part}",
                                      outcome="", next_on=None)
    seen: list[str] = []
    end = None
    for _ in range(10):
        page = chronology_page(actor=world.psy1, pupil=world.p1, types={EntryType.FOLLOWUP}, end=end, size=15)
        assert len(page.entries) <= 15 and len(page.entries) % 2 == 0  # both lines of a day, or neither
        seen += [e.detail for e in page.entries]
        if page.earlier_to is None:
            break
        end = page.earlier_to
    assert sorted(seen) == sorted(f"day {i} {p}" for i in range(40) for p in "ab")
    assert seen[0] == "day 39 b" or seen[0] == "day 39 a"
    # The page (50 lines) links to the earlier ones; following the link shows the oldest days.
    client = signed_in(app, world.psy1)
    text = client.get(f"/monitoring/pupils/{world.p1.uuid}/chronology").get_data(as_text=True)
    assert "day 39 b" in text and "day 0 a" not in text
    link = re.search(r'href="([^"]+)">Show earlier', text).group(1).replace("&amp;", "&")
    earlier = client.get(link).get_data(as_text=True)
    assert "day 0 a" in earlier and "day 39 b" not in earlier and "Show earlier" not in earlier
