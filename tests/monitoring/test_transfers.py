"""Moving a case to the pupil's new school: proposed by the owner (or a school administrator on the team), seen by
the receiving psychologists as a name and a class only, accepted (the case and all its records move and are
re-encrypted under the new school's key; the old team loses access) or declined with a reason (the case stays).
Each step is audited in both schools' chains."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, text

from app.core import audit as audit_module
from app.core.audit import AuditAction
from app.core.models import pupil_name_index, utcnow
from app.extensions import db
from app.monitoring import referrals, services, transfers
from app.monitoring.models import CaseAccessGrant, CaseNote, MonitoringCase, RiskLevel
from app.monitoring.referral_models import CaseTransfer, ReferralDestination
from tests.factories import csrf_token, login, post
from tests.monitoring.support import NOTE_MARKER, entries, open_case
from tests.security.helpers import signed_in


@pytest.fixture
def case(world):
    case = open_case(world, risk=RiskLevel.ACUTE)
    services.add_member(actor=world.psy1, case=case, version=case.version, user_id=world.soc1.id)
    services.add_note(actor=world.psy1, case=case, body=f"{NOTE_MARKER} беседа с мамой")
    referrals.create_referral(actor=world.psy1, case=case, destination=ReferralDestination.SPECIALIST,
                              reason=f"{NOTE_MARKER} консультация", sent_on=date(2026, 9, 1),
                              deadline=date(2026, 9, 8))
    return case


def _propose(world, case) -> CaseTransfer:
    return transfers.propose(actor=world.psy1, case=case, to_school=world.s2)


def _key_id(raw, school) -> bool:
    """True if the ciphertext ``raw`` was made with ``school``'s first data key (its id is in the header)."""
    key_id = f"s{school.id}-1".encode()
    return bytes(raw)[2:2 + len(key_id)] == key_id


def test_the_owner_proposes_the_transfer_and_both_schools_audit_it(client, world, case):
    login(client, world.psy1)
    path = f"/monitoring/cases/{case.uuid}/transfer"
    assert client.get(path).status_code == 200
    response = post(client, path, {"to_school": str(world.s2.id)})
    assert response.status_code == 302
    transfer = db.session.execute(select(CaseTransfer)).scalar_one()
    assert (transfer.status, transfer.school_id, transfer.to_school_id) == ("pending", world.s1.id, world.s2.id)
    proposed = entries(AuditAction.TRANSFER_PROPOSED)
    assert sorted(e.school_id for e in proposed) == sorted([world.s1.id, world.s2.id])
    assert all(e.pupil_id == world.p1.id and e.object_id == transfer.uuid for e in proposed)
    page = client.get(f"/monitoring/cases/{case.uuid}").get_data(as_text=True)
    assert "Waiting for" in page
    # A second proposal while one waits is refused.
    with pytest.raises(transfers.AlreadyPending):
        _propose(world, case)


def test_a_team_member_who_is_not_the_owner_cannot_propose_but_an_administrator_on_the_team_can(app, world, case):
    assert signed_in(app, world.soc1).get(f"/monitoring/cases/{case.uuid}/transfer").status_code == 404
    assert entries(AuditAction.ACCESS_DENIED)[-1].pupil_id == world.p1.id
    services.add_member(actor=world.psy1, case=case, version=case.version, user_id=world.a1.id)
    director = signed_in(app, world.a1)
    assert post(director, f"/monitoring/cases/{case.uuid}/transfer", {"to_school": str(world.s2.id)}).status_code == 302
    assert transfers.pending_transfer(case) is not None


def test_the_receiving_psychologist_sees_a_name_and_a_class_only_until_accepting(app, world, case):
    transfer = _propose(world, case)
    receiver = signed_in(app, world.psy3)
    assert receiver.get(f"/monitoring/cases/{case.uuid}").status_code == 404
    inbox = receiver.get("/monitoring/transfers").get_data(as_text=True)
    assert world.p1.short_name in inbox and world.p1.school_class.label in inbox
    for secret in (NOTE_MARKER, "Acute", "acute", case.uuid, world.s1.name):
        assert secret not in inbox
    (seen,) = entries(AuditAction.TRANSFER_LIST_READ)
    assert (seen.school_id, seen.pupil_id, seen.object_id) == (world.s2.id, world.p1.id, transfer.uuid)
    # The caseload tells them a case waits.
    assert "waiting for you to take it over" in receiver.get("/monitoring/cases").get_data(as_text=True)
    # A psychologist of the sending school (or any other) does not see it and cannot answer it.
    other = signed_in(app, world.psy2)
    assert world.p1.short_name not in other.get("/monitoring/transfers").get_data(as_text=True)
    token = csrf_token(other, "/monitoring/transfers")
    assert other.post(f"/monitoring/transfers/{transfer.uuid}/accept",
                      data={"csrf_token": token, "version": transfer.version}).status_code == 404


def test_accepting_moves_the_case_re_encrypts_it_and_the_old_team_loses_access(app, world, case):
    grant = CaseAccessGrant(school_id=case.school_id, case_id=case.id, user_id=world.psy2.id,
                            granted_by_id=world.psy1.id, expires_at=utcnow() + timedelta(hours=1))
    grant.reason = f"{NOTE_MARKER} cover"
    db.session.add(grant)
    db.session.commit()
    transfer = _propose(world, case)
    old_note = db.session.execute(text("SELECT body_ct FROM case_notes")).scalar_one()
    assert _key_id(old_note, world.s1)
    receiver = signed_in(app, world.psy3)
    token = csrf_token(receiver, "/monitoring/transfers")
    response = receiver.post(f"/monitoring/transfers/{transfer.uuid}/accept",
                             data={"csrf_token": token, "version": transfer.version})
    assert response.status_code == 302 and response.headers["Location"].endswith(case.uuid)
    db.session.expire_all()
    moved = db.session.get(MonitoringCase, case.id)
    assert (moved.school_id, moved.owner_id, moved.risk_level) == (world.s2.id, world.psy3.id, "acute")
    assert moved.current_members == []
    # Every record of the case is now under the new school's key, and still reads the same.
    for table, column in (("monitoring_cases", "risk_ct"), ("case_notes", "body_ct"), ("case_events", "data_ct"),
                          ("case_referrals", "reason_ct"), ("case_steps", "data_ct")):
        for raw in db.session.execute(text(f"SELECT {column} FROM {table}")).scalars():  # noqa: S608 (fixed names)
            assert _key_id(raw, world.s2), table
    note = db.session.execute(select(CaseNote)).scalar_one()
    assert note.school_id == world.s2.id and note.body == f"{NOTE_MARKER} беседа с мамой"
    assert referrals.case_referrals(moved)[0].reason == f"{NOTE_MARKER} консультация"
    page = receiver.get(f"/monitoring/cases/{case.uuid}").get_data(as_text=True)
    assert "беседа с мамой" in page and "Case moved to another school" in page
    # The old owner and team no longer reach it.
    for user in (world.psy1, world.soc1, world.psy2):  # owner, team, and the holder of an access grant
        assert signed_in(app, user).get(f"/monitoring/cases/{case.uuid}").status_code == 404
    grant = db.session.get(CaseAccessGrant, grant.id)
    assert grant.revoked_at is not None and grant.school_id == world.s2.id and grant.reason.endswith("cover")
    accepted = entries(AuditAction.TRANSFER_ACCEPTED)
    assert sorted(e.school_id for e in accepted) == sorted([world.s1.id, world.s2.id])
    assert all(e.pupil_id == world.p1.id and e.actor_id == world.psy3.id for e in accepted)
    assert audit_module.verify() == []  # both schools' chains are whole
    # It cannot be accepted twice.
    assert receiver.post(f"/monitoring/transfers/{transfer.uuid}/accept",
                         data={"csrf_token": token, "version": transfer.version}).status_code == 404


def test_declining_keeps_the_case_at_its_school_with_the_reason(app, world, case):
    transfer = _propose(world, case)
    receiver = signed_in(app, world.psy3)
    token = csrf_token(receiver, "/monitoring/transfers")
    path = f"/monitoring/transfers/{transfer.uuid}/decline"
    assert receiver.post(path, data={"decline-csrf_token": token, "decline-version": transfer.version,
                                     "decline-reason": " "}).status_code == 302
    db.session.refresh(transfer)
    assert transfer.status == "pending"
    response = receiver.post(path, data={"decline-csrf_token": token, "decline-version": transfer.version,
                                         "decline-reason": f"{NOTE_MARKER} ученик не числится у нас"})
    assert response.status_code == 302
    db.session.expire_all()
    kept = db.session.get(MonitoringCase, case.id)
    assert (kept.school_id, kept.owner_id) == (world.s1.id, world.psy1.id)
    raw = db.session.execute(text("SELECT decline_reason_ct FROM case_transfers")).scalar_one()
    assert NOTE_MARKER.encode() not in bytes(raw)
    page = signed_in(app, world.psy1).get(f"/monitoring/cases/{case.uuid}").get_data(as_text=True)
    assert "ученик не числится у нас" in page
    assert receiver.get(f"/monitoring/cases/{case.uuid}").status_code == 404
    declined = entries(AuditAction.TRANSFER_DECLINED)
    assert sorted(e.school_id for e in declined) == sorted([world.s1.id, world.s2.id])
    assert NOTE_MARKER not in "".join(e.details or "" for e in declined)


def test_two_answers_from_the_same_form_conflict(app, world, case):
    transfer = _propose(world, case)
    stale = transfer.version
    transfers.decline(actor=world.psy3, transfer=transfer, version=stale, reason="no")
    with pytest.raises(Exception, match="changed since the form was loaded"):
        transfers.accept(actor=world.psy3, transfer=transfer, version=stale)
    db.session.expire_all()
    assert db.session.get(MonitoringCase, case.id).school_id == world.s1.id


def test_on_accept_the_pupil_record_moves_to_the_new_school(app, world, case):
    """The new school's staff find the pupil; the old school's lose the pupil and the case but keep their audit
    entries."""
    old_class = world.p1.class_id
    transfer = _propose(world, case)
    sender, receiver = signed_in(app, world.psy1), signed_in(app, world.psy3)
    pupil_page = f"/pupils/{world.p1.uuid}"
    assert sender.get(pupil_page).status_code == 200
    assert receiver.get(pupil_page).status_code == 404
    before = len(entries(AuditAction.TRANSFER_PROPOSED, school_id=world.s1.id))
    transfers.accept(actor=world.psy3, transfer=transfer, version=transfer.version)
    db.session.expire_all()
    pupil = db.session.get(type(world.p1), world.p1.id)
    assert (pupil.school_id, pupil.class_id) == (world.s2.id, None) and old_class is not None
    assert pupil.name_bidx == pupil_name_index(world.s2.id, pupil.last_name, pupil.first_name)
    # Receiving side: the pupil, the case and the chronology.
    assert receiver.get(pupil_page).status_code == 200
    assert receiver.get(f"/monitoring/cases/{case.uuid}").status_code == 200
    assert receiver.get(f"/monitoring/pupils/{world.p1.uuid}/chronology").status_code == 200
    assert case.uuid in receiver.get("/monitoring/cases").get_data(as_text=True)
    # Sending side: neither the pupil nor the case, from now on; its chain keeps what happened.
    for user in (world.psy1, world.psy2, world.soc1, world.a1):
        client = sender if user is world.psy1 else signed_in(app, user)
        assert client.get(pupil_page).status_code in (403, 404), user.username
        assert client.get(f"/monitoring/cases/{case.uuid}").status_code == 404, user.username
        assert case.uuid not in client.get("/monitoring/cases").get_data(as_text=True)
    assert len(entries(AuditAction.TRANSFER_PROPOSED, school_id=world.s1.id)) == before == 1
    assert entries(AuditAction.TRANSFER_ACCEPTED, school_id=world.s1.id)
    assert audit_module.verify() == []


def test_the_sending_psychologist_withdraws_a_waiting_transfer(app, world, case):
    transfer = _propose(world, case)
    sender = signed_in(app, world.psy1)
    page = sender.get(f"/monitoring/cases/{case.uuid}").get_data(as_text=True)
    assert "Withdraw the transfer" in page
    token = csrf_token(sender, f"/monitoring/cases/{case.uuid}")
    response = sender.post(f"/monitoring/cases/{case.uuid}/transfer/withdraw",
                           data={"csrf_token": token, "withdraw-version": transfer.version})
    assert response.status_code == 302
    db.session.expire_all()
    transfer = db.session.get(CaseTransfer, transfer.id)
    assert (transfer.status, transfer.decided_by_id) == ("withdrawn", world.psy1.id)
    assert db.session.get(MonitoringCase, case.id).school_id == world.s1.id
    withdrawn = entries(AuditAction.TRANSFER_WITHDRAWN)
    assert sorted(e.school_id for e in withdrawn) == sorted([world.s1.id, world.s2.id])
    assert all(e.pupil_id == world.p1.id and e.object_id == transfer.uuid for e in withdrawn)
    # The receiving side no longer sees it and cannot accept it.
    receiver = signed_in(app, world.psy3)
    assert world.p1.short_name not in receiver.get("/monitoring/transfers").get_data(as_text=True)
    rtoken = csrf_token(receiver, "/monitoring/transfers")
    assert receiver.post(f"/monitoring/transfers/{transfer.uuid}/accept",
                         data={"csrf_token": rtoken, "version": transfer.version}).status_code == 404
    with pytest.raises(transfers.NotPending):
        transfers.accept(actor=world.psy3, transfer=transfer, version=transfer.version)
    # Nothing waits any more: a new transfer may be proposed, and withdrawing again is a 404.
    assert "Withdraw the transfer" not in sender.get(f"/monitoring/cases/{case.uuid}").get_data(as_text=True)
    assert sender.post(f"/monitoring/cases/{case.uuid}/transfer/withdraw",
                       data={"csrf_token": token, "withdraw-version": transfer.version}).status_code == 404
    assert _propose(world, case).status == "pending"


def test_withdrawing_after_the_answer_is_refused(app, world, case):
    transfer = _propose(world, case)
    stale = transfer.version
    transfers.decline(actor=world.psy3, transfer=transfer, version=stale, reason="no")
    with pytest.raises(Exception, match="changed since the form was loaded"):
        transfers.withdraw(actor=world.psy1, transfer=transfer, version=stale)
    with pytest.raises(transfers.NotPending):
        transfers.withdraw(actor=world.psy1, transfer=transfer, version=transfer.version)
    assert db.session.get(CaseTransfer, transfer.id).status == "declined"
