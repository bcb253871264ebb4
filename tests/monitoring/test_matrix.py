"""Role × endpoint matrix of every monitoring route: each role, anonymous included, gets what its role and its
membership of the case allow; every refusal (403, or 404 for an object out of scope) is audited and tied to the
pupil, and an out-of-scope 404 is the same page as an unknown id's."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from flask import Flask

from app.auth.permissions import MONITORING_PERMISSIONS, endpoint_permission, user_permissions
from app.core.audit import AuditAction, Outcome
from app.core.models import utcnow
from app.extensions import db
from app.monitoring import attachments, plans, referrals, services, transfers
from app.monitoring.models import CaseAccessGrant
from app.monitoring.referral_models import ReferralDestination
from tests.factories import csrf_token, login, post
from tests.monitoring.support import acute_alert, entries, open_case, register
from tests.security.helpers import audit_count, signed_in, without_tokens

#: endpoint -> (method, path template); {case}, {entry}, {alert}, {p1}, {member} come from the fixture below.
ROUTES = {
    "monitoring.caseload": ("GET", "/monitoring/cases"),
    "monitoring.register": ("GET", "/monitoring/registry"),
    "monitoring.case_detail": ("GET", "/monitoring/cases/{case}"),
    "monitoring.case_new": ("GET", "/monitoring/pupils/{p1}/cases/new"),
    "monitoring.pupil_registry": ("GET", "/monitoring/pupils/{p1}/registry"),
    "monitoring.registry_new": ("GET", "/monitoring/pupils/{p1}/registry/new"),
    "monitoring.registry_edit": ("GET", "/monitoring/registry/{entry}/edit"),
    "monitoring.registry_deregister": ("GET", "/monitoring/registry/{entry}/deregister"),
    "monitoring.case_risk": ("POST", "/monitoring/cases/{case}/risk"),
    "monitoring.case_status": ("POST", "/monitoring/cases/{case}/status"),
    "monitoring.case_review_date": ("POST", "/monitoring/cases/{case}/review-date"),
    "monitoring.case_team_add": ("POST", "/monitoring/cases/{case}/team"),
    "monitoring.case_team_remove": ("POST", "/monitoring/cases/{case}/team/{member}/remove"),
    "monitoring.case_note": ("POST", "/monitoring/cases/{case}/notes"),
    "monitoring.case_from_alert": ("POST", "/monitoring/alerts/{alert}/case"),
    "monitoring.referral_new": ("POST", "/monitoring/cases/{case}/referrals"),
    "monitoring.referral_status": ("POST", "/monitoring/cases/{case}/referrals/{referral}"),
    "monitoring.step_done": ("POST", "/monitoring/cases/{case}/steps/{step}"),
    "monitoring.transfer_propose": ("GET", "/monitoring/cases/{case}/transfer"),
    "monitoring.transfer_inbox": ("GET", "/monitoring/transfers"),
    "monitoring.transfer_accept": ("POST", "/monitoring/transfers/{transfer}/accept"),
    "monitoring.transfer_decline": ("POST", "/monitoring/transfers/{transfer}/decline"),
    "monitoring.transfer_withdraw": ("POST", "/monitoring/cases/{case}/transfer/withdraw"),
    "monitoring.safety_plan": ("GET", "/monitoring/cases/{case}/safety-plan"),
    "monitoring.safety_plan_save": ("POST", "/monitoring/cases/{case}/safety-plan/save"),
    "monitoring.safety_plan_print": ("GET", "/monitoring/cases/{case}/safety-plan/print"),
    "monitoring.plan_review": ("POST", "/monitoring/cases/{case}/plans/safety/review"),
    "monitoring.support_plan": ("GET", "/monitoring/cases/{case}/support-plan"),
    "monitoring.support_action_add": ("POST", "/monitoring/cases/{case}/support-plan/actions"),
    "monitoring.support_action_update": ("POST", "/monitoring/cases/{case}/support-plan/actions/{action}"),
    "monitoring.followups": ("GET", "/monitoring/follow-ups"),
    "monitoring.case_followups": ("GET", "/monitoring/cases/{case}/follow-ups"),
    "monitoring.case_followup_interval": ("POST", "/monitoring/cases/{case}/follow-ups/interval"),
    "monitoring.pupil_followups": ("GET", "/monitoring/pupils/{p1}/follow-ups"),
    "monitoring.parent_contact": ("POST", "/monitoring/cases/{case}/parent-contacts"),
    "monitoring.chronology": ("GET", "/monitoring/pupils/{p1}/chronology"),
    "monitoring.emergency_access": ("GET", "/monitoring/pupils/{p1}/emergency-access"),
    "monitoring.emergency_reviews": ("GET", "/monitoring/emergency-reviews"),
    "monitoring.emergency_review": ("POST", "/monitoring/emergency-reviews/{grant}"),
    "monitoring.emergency_revoke": ("POST", "/monitoring/emergency-reviews/{grant}/revoke"),
    "monitoring.attachment_add": ("POST", "/monitoring/cases/{case}/notes/{note}/attachments"),
    "monitoring.attachment_download": ("GET", "/monitoring/cases/{case}/attachments/{attachment}"),
}

ROLES = ["admin", "a1", "psy1", "psy2", "psy3", "soc1", "t7a", "t8b", "r1", "pupil1", "d1", "reg1", "norole"]
SCHOOL_STAFF = {"a1", "psy1", "psy2", "psy3", "soc1"}  # hold a monitoring permission (their own school only)
#: The case of p1 is owned by psy1 with soc1 on its team: psy2 (same school), psy3 (other school) and the
#: director (not on the team) get the 404 of an unknown case.
EXPECTED: dict[str, dict[str, int]] = {
    "monitoring.caseload": dict.fromkeys(SCHOOL_STAFF, 200),
    "monitoring.register": dict.fromkeys(SCHOOL_STAFF, 200),
    "monitoring.case_detail": {"psy1": 200, "soc1": 200, "psy2": 404, "psy3": 404, "a1": 404},
    "monitoring.case_new": {"psy1": 200, "psy2": 200, "psy3": 404},
    "monitoring.pupil_registry": {"psy1": 200, "psy2": 200, "soc1": 200, "a1": 200, "psy3": 404},
    "monitoring.registry_new": {"psy1": 200, "psy2": 200, "soc1": 200, "psy3": 404},
    "monitoring.registry_edit": {"psy1": 200, "psy2": 200, "soc1": 200, "psy3": 404},
    "monitoring.registry_deregister": {"psy1": 200, "psy2": 200, "soc1": 200, "psy3": 404},
    "monitoring.case_risk": {"psy1": 0, "psy2": 404, "psy3": 404},
    "monitoring.case_status": {"psy1": 0, "psy2": 404, "psy3": 404},
    "monitoring.case_review_date": {"psy1": 0, "psy2": 404, "psy3": 404},
    "monitoring.case_team_add": {"psy1": 0, "psy2": 404, "psy3": 404},
    "monitoring.case_team_remove": {"psy1": 0, "psy2": 404, "psy3": 404},
    "monitoring.case_note": {"psy1": 0, "soc1": 0, "psy2": 404, "psy3": 404, "a1": 404},
    "monitoring.case_from_alert": {"psy1": 0, "psy2": 0, "psy3": 404},
    "monitoring.referral_new": {"psy1": 0, "psy2": 404, "psy3": 404},
    "monitoring.referral_status": {"psy1": 0, "psy2": 404, "psy3": 404},
    "monitoring.step_done": {"psy1": 0, "soc1": 0, "psy2": 404, "psy3": 404, "a1": 404},
    # Proposing a transfer: the owner (or a school administrator on the team); soc1 reads the case but may not.
    "monitoring.transfer_propose": {"psy1": 200, "soc1": 404, "psy2": 404, "psy3": 404, "a1": 404},
    "monitoring.transfer_inbox": {"psy1": 200, "psy2": 200, "psy3": 200},
    # The case of p1 is offered to s2: only its psychologist (psy3) answers; the sending side gets a 404.
    "monitoring.transfer_accept": {"psy1": 404, "psy2": 404, "psy3": 0},
    "monitoring.transfer_decline": {"psy1": 404, "psy2": 404, "psy3": 0},
    # Withdrawing it: the sending side that may propose (the owner); the receiving psychologist cannot.
    "monitoring.transfer_withdraw": {"psy1": 0, "soc1": 404, "psy2": 404, "psy3": 404, "a1": 404},
    # Plans: read by the case team, changed by its psychologists; the printed copy redirects until a plan is saved.
    "monitoring.safety_plan": {"psy1": 200, "soc1": 200, "psy2": 404, "psy3": 404, "a1": 404},
    "monitoring.safety_plan_save": {"psy1": 0, "psy2": 404, "psy3": 404},
    "monitoring.safety_plan_print": {"psy1": 302, "soc1": 302, "psy2": 404, "psy3": 404, "a1": 404},
    "monitoring.plan_review": {"psy1": 0, "psy2": 404, "psy3": 404},
    "monitoring.support_plan": {"psy1": 200, "soc1": 200, "psy2": 404, "psy3": 404, "a1": 404},
    "monitoring.support_action_add": {"psy1": 0, "psy2": 404, "psy3": 404},
    "monitoring.support_action_update": {"psy1": 0, "psy2": 404, "psy3": 404},
    # Follow-ups: everyone's own page; a case's by its team; a registered pupil's by those keeping the registry.
    "monitoring.followups": {"a1": 200, "psy1": 200, "psy2": 200, "psy3": 200, "soc1": 200},
    "monitoring.case_followups": {"psy1": 200, "soc1": 200, "psy2": 404, "psy3": 404, "a1": 404},
    "monitoring.case_followup_interval": {"psy1": 0, "psy2": 404, "psy3": 404},
    "monitoring.pupil_followups": {"psy1": 200, "psy2": 200, "soc1": 200, "psy3": 404},
    "monitoring.parent_contact": {"psy1": 0, "soc1": 0, "psy2": 404, "psy3": 404, "a1": 404},
    "monitoring.chronology": {"a1": 200, "psy1": 200, "psy2": 200, "psy3": 404, "soc1": 200},
    "monitoring.emergency_access": {"psy1": 200, "psy2": 200, "soc1": 200, "a1": 200, "psy3": 404},
    "monitoring.emergency_reviews": {"psy1": 200, "psy2": 200, "psy3": 200, "a1": 200},
    "monitoring.emergency_review": {"psy1": 0, "a1": 0, "psy2": 404, "psy3": 404},
    "monitoring.emergency_revoke": {"psy1": 0, "a1": 0, "psy2": 404, "psy3": 404},
    "monitoring.attachment_add": {"psy1": 0, "soc1": 0, "psy2": 404, "psy3": 404, "a1": 404},
    "monitoring.attachment_download": {"psy1": 200, "soc1": 200, "psy2": 404, "psy3": 404, "a1": 404},
}  # 0: allowed (its effect is tested in the feature tests); anything not listed: 403


@pytest.fixture
def setting(world):
    case = open_case(world)
    member = services.add_member(actor=world.psy1, case=case, version=case.version, user_id=world.soc1.id)
    entry = register(world)
    alert = acute_alert(world, world.p1)
    action = plans.add_action(actor=world.psy1, case=case, action="talk weekly", responsible="psy1", due_on=None)
    referral = referrals.create_referral(actor=world.psy1, case=case, destination=ReferralDestination.SPECIALIST,
                                         reason="consultation", sent_on=date(2026, 9, 1), deadline=date(2026, 9, 8))
    step = referrals.case_steps(case)[0]  # a high-risk case has the algorithm's steps
    note = services.add_note(actor=world.psy1, case=case, body="note")
    attachment = attachments.add_attachment(actor=world.psy1, case=case, note=note, filename="a.pdf",
                                            data=b"%PDF-1.4\n%%EOF\n")
    now = utcnow()  # an emergency access of psy2 that has ended (so it opens nothing) and waits for review
    grant = CaseAccessGrant(school_id=case.school_id, case_id=case.id, user_id=world.psy2.id,
                            starts_at=now - timedelta(hours=5), expires_at=now - timedelta(hours=1))
    grant.reason = "emergency"
    db.session.add(grant)
    db.session.commit()
    transfer = transfers.propose(actor=world.psy1, case=case, to_school=world.s2)
    return {"case": case.uuid, "entry": entry.uuid, "alert": alert.uuid, "p1": world.p1.uuid,
            "member": member.id, "pupil_id": world.p1.id, "referral": referral.uuid, "step": step.uuid,
            "transfer": transfer.uuid, "action": action.uuid, "note": note.uuid, "attachment": attachment.uuid,
            "grant": grant.uuid}


def _denials() -> int:
    return audit_count(action=str(AuditAction.ACCESS_DENIED), outcome=str(Outcome.DENIED))


def test_every_monitoring_endpoint_is_in_the_matrix(app: Flask) -> None:
    endpoints = {name for name in app.view_functions if name.startswith("monitoring.")}
    assert endpoints == set(ROUTES) == set(EXPECTED)
    for name in endpoints:
        assert endpoint_permission(app.view_functions[name]) in MONITORING_PERMISSIONS, name


@pytest.mark.parametrize("endpoint", sorted(ROUTES))
def test_anonymous_is_sent_to_sign_in(client, world, setting, endpoint) -> None:
    method, template = ROUTES[endpoint]
    path = template.format(**setting)
    if method == "GET":
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    else:
        assert post(client, path, form_page="/login").status_code == 401


@pytest.mark.parametrize("role", ROLES)
def test_roles_get_what_role_and_membership_allow(app: Flask, world, setting, role) -> None:
    client = signed_in(app, getattr(world, role))
    for endpoint, (method, template) in ROUTES.items():
        expected = EXPECTED[endpoint].get(role, 403)
        if expected == 0:
            continue
        path = template.format(**setting)
        token = csrf_token(client, "/account") if method == "POST" else None  # (its page may be a 403 itself)
        before = _denials()
        response = client.get(path) if method == "GET" else client.post(path, data={"csrf_token": token})
        assert response.status_code == expected, (role, endpoint, response.status_code)
        if expected in (403, 404):
            denied = entries(AuditAction.ACCESS_DENIED)
            assert _denials() == before + 1, (role, endpoint, "refusal not audited once")
            if any(f"{{{name}}}" in template for name in ("p1", "case", "entry", "transfer")):
                assert denied[-1].pupil_id == setting["pupil_id"], (role, endpoint, "refusal not tied to the pupil")


def test_holders_of_monitoring_permissions_are_school_staff_only(world) -> None:
    for name, user in world.users.items():
        held = user_permissions(user) & MONITORING_PERMISSIONS
        assert bool(held) == (name in SCHOOL_STAFF), name


def test_out_of_scope_case_is_the_same_404_as_an_unknown_one(app: Flask, world, setting) -> None:
    random_id = str(uuid.uuid4())
    for role in ("psy2", "psy3", "a1"):
        client = signed_in(app, getattr(world, role))
        real = client.get(f"/monitoring/cases/{setting['case']}")
        unknown = client.get(f"/monitoring/cases/{random_id}")
        assert real.status_code == unknown.status_code == 404
        assert without_tokens(real.get_data(as_text=True), setting["case"]) == \
            without_tokens(unknown.get_data(as_text=True), random_id)
    # The refusals of the real case land in its school's chain, tied to the pupil.
    refused = [e for e in entries(AuditAction.ACCESS_DENIED) if e.object_id == setting["case"]]
    assert len(refused) == 3 and {e.school_id for e in refused} == {world.s1.id}


def test_a_teacher_probing_another_class_pupil_is_refused_and_audited(app: Flask, world, setting) -> None:
    client = signed_in(app, world.t8b)  # p1 is in 7A
    for path in (f"/monitoring/pupils/{world.p1.uuid}/registry", f"/monitoring/cases/{setting['case']}",
                 f"/monitoring/pupils/{world.p1.uuid}/cases/new"):
        before = _denials()
        assert client.get(path).status_code == 403
        assert _denials() == before + 1
        assert entries(AuditAction.ACCESS_DENIED)[-1].pupil_id == world.p1.id


def test_the_caseload_lists_only_cases_of_one_s_own_team(app: Flask, world, setting) -> None:
    other = open_case(world, pupil=world.p2, owner=world.psy2)
    there = open_case(world, pupil=world.p3, owner=world.psy3)
    for role, seen, unseen in (("psy1", [setting["case"]], [other.uuid, there.uuid]),
                               ("soc1", [setting["case"]], [other.uuid, there.uuid]),
                               ("psy2", [other.uuid], [setting["case"], there.uuid]),
                               ("a1", [], [setting["case"], other.uuid, there.uuid])):
        page = signed_in(app, getattr(world, role)).get("/monitoring/cases").get_data(as_text=True)
        for case_uuid in seen:
            assert case_uuid in page, (role, "missing")
        for case_uuid in unseen:
            assert case_uuid not in page, (role, "leaked")


def test_a_director_on_the_team_reads_the_case(client, world, setting) -> None:
    case = services.open_case_of(world.p1.id)
    services.add_member(actor=world.psy1, case=case, version=case.version, user_id=world.a1.id)
    login(client, world.a1)
    assert client.get(f"/monitoring/cases/{setting['case']}").status_code == 200
    assert setting["case"] in client.get("/monitoring/cases").get_data(as_text=True)


def test_a_live_grant_opens_the_case_and_an_expired_or_revoked_one_does_not(app: Flask, world, setting) -> None:
    case = services.open_case_of(world.p1.id)
    now = utcnow()
    grant = CaseAccessGrant(school_id=case.school_id, case_id=case.id, user_id=world.psy2.id,
                            granted_by_id=world.psy1.id, starts_at=now - timedelta(minutes=5),
                            expires_at=now + timedelta(hours=1))
    grant.reason = "cover during leave"
    db.session.add(grant)
    db.session.commit()
    client = signed_in(app, world.psy2)
    path = f"/monitoring/cases/{setting['case']}"
    assert client.get(path).status_code == 200
    grant.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get(path).status_code == 404
    grant.expires_at, grant.revoked_at = utcnow() + timedelta(hours=1), utcnow()
    db.session.commit()
    assert client.get(path).status_code == 404


def test_a_member_taken_off_the_team_loses_access(app: Flask, world, setting) -> None:
    client = signed_in(app, world.soc1)
    path = f"/monitoring/cases/{setting['case']}"
    assert client.get(path).status_code == 200
    case = services.open_case_of(world.p1.id)
    services.remove_member(actor=world.psy1, case=case, version=case.version, member_id=setting["member"])
    assert client.get(path).status_code == 404
