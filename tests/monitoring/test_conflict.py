"""Optimistic locking: two people edit the same case or registration from forms loaded at the same version; the
second gets a conflict page (409) with both versions and their own text kept, nothing is overwritten, and sending
the kept form again saves it over the current version."""

from __future__ import annotations

import re
from datetime import date

import pytest
from flask import Flask
from sqlalchemy import update

from app.core.audit import AuditAction
from app.extensions import db
from app.monitoring import services
from app.monitoring.conflicts import EditConflict, versioned
from app.monitoring.models import CaseStatus, MonitoringCase, RiskLevel
from tests.monitoring.support import entries, open_case, register
from tests.security.helpers import signed_in


def _form_values(page: str, prefix: str) -> dict[str, str]:
    """The hidden values (CSRF token, version) of one form of a page."""
    values = {}
    for name in ("csrf_token", "version"):
        field = f"{prefix}-{name}" if prefix else name
        match = re.search(rf'name="{field}"[^>]*value="([^"]*)"', page) or re.search(
            rf'value="([^"]*)"[^>]*name="{field}"', page)
        assert match, f"no {field} on the page"
        values[field] = match.group(1)
    return values


def test_two_sessions_editing_one_case(app: Flask, world) -> None:
    case = open_case(world, risk=RiskLevel.HIGH)
    services.add_member(actor=world.psy1, case=case, version=case.version, user_id=world.psy2.id)
    first, second = signed_in(app, world.psy1), signed_in(app, world.psy2)
    path = f"/monitoring/cases/{case.uuid}"
    first_form = _form_values(first.get(path).get_data(as_text=True), "risk")
    second_form = _form_values(second.get(path).get_data(as_text=True), "status")
    assert first_form["risk-version"] == second_form["status-version"]

    saved = first.post(f"{path}/risk", data={**first_form, "risk-risk": "acute", "risk-reason": "Первая правка"})
    assert saved.status_code == 302

    mine = "Вторая правка: начинаем наблюдение"
    stale = second.post(f"{path}/status", data={**second_form, "status-status": "active", "status-reason": mine})
    assert stale.status_code == 409
    page = stale.get_data(as_text=True)
    assert "Someone changed this case while you were editing" in page
    assert mine in page and "Active monitoring" in page  # the second person's change, kept
    assert "Acute risk" in page and world.psy1.display_name in page  # the first person's, now current
    db.session.expire_all()
    assert case.status == "open" and case.risk_level == "acute"  # the first change stands, the second waits
    (conflict,) = entries(AuditAction.EDIT_CONFLICT)
    assert conflict.pupil_id == world.p1.id and conflict.object_id == case.uuid

    again = _form_values(page, "status")
    assert again["status-version"] == str(case.version)
    resent = second.post(f"{path}/status", data={**again, "status-status": "active", "status-reason": mine})
    assert resent.status_code == 302
    db.session.expire_all()
    assert case.status == "active" and case.risk_level == "acute"
    assert [e.data.get("reason") for e in case.events if e.kind in ("risk", "status")] == ["Первая правка", mine]


def test_a_write_racing_past_the_check_is_a_conflict_too(world) -> None:
    """Between the version check and the UPDATE another transaction commits: the UPDATE's own version condition
    matches no row, and the service answers EditConflict with nothing changed."""
    case = open_case(world)
    version = case.version
    db.session.execute(update(MonitoringCase).where(MonitoringCase.id == case.id)
                       .values(version=MonitoringCase.version + 1))  # what a concurrent commit leaves behind
    with pytest.raises(EditConflict):
        services.change_status(actor=world.psy1, case=case, version=version, status=CaseStatus.ACTIVE,
                               reason="r")
    db.session.expire_all()
    assert case.status == "open" and [e.kind for e in case.events] == ["opened"]


def test_two_sessions_editing_one_registration(app: Flask, world) -> None:
    entry = register(world)
    first, second = signed_in(app, world.soc1), signed_in(app, world.psy1)
    path = f"/monitoring/registry/{entry.uuid}/edit"
    first_form, second_form = (_form_values(c.get(path).get_data(as_text=True), "") for c in (first, second))
    fields = {"kind": "school", "basis_document": "Хаттама №3", "basis_number": "3", "basis_date": "2026-09-14",
              "reason_category": "truancy", "reason_text": "Первая правка", "started_on": "2026-09-15",
              "next_review_on": "2026-11-01"}
    assert first.post(path, data={**first_form, **fields}).status_code == 302
    mine = {**fields, "reason_category": "offence", "reason_text": "Вторая правка"}
    stale = second.post(path, data={**second_form, **mine})
    assert stale.status_code == 409
    page = stale.get_data(as_text=True)
    assert "Вторая правка" in page and "Первая правка" in page and "Offence" in page
    db.session.expire_all()
    assert entry.details.reason_text == "Первая правка" and entry.next_review_on == date(2026, 11, 1)
    resent = second.post(path, data={**_form_values(page, ""), **mine})
    assert resent.status_code == 302
    db.session.expire_all()
    assert entry.details.reason_text == "Вторая правка"
    assert [e.snapshot["reason_text"] for e in entry.events] == [
        entry.events[0].snapshot["reason_text"], "Первая правка", "Вторая правка"]


def test_a_change_refused_halfway_leaves_nothing_for_a_later_commit(world) -> None:
    case = open_case(world)
    with pytest.raises(ValueError), versioned(actor=world.psy1, record=case, version=case.version,
                                              object_type="case"):
        case.status = "review"
        raise ValueError("a rule refused the change after it began")
    db.session.commit()  # e.g. the audit entry of the page shown next
    db.session.expire_all()
    assert case.status == "open"
