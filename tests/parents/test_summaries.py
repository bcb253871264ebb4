"""Summaries for parents: a psychologist writes a draft, releases it explicitly and can take the release back;
parents read released summaries only, and never answers, scores, registry status or notes."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import text

from app.auth.roles import Role
from app.core.audit import AuditAction, Outcome
from app.extensions import db
from app.parents import summaries as services
from app.screening.services import instrument_for
from tests.factories import make_user, post
from tests.monitoring.support import NOTE_MARKER, acute_alert, open_case, register
from tests.parents.support import MARKER, entries, summaries
from tests.screening.workflow_support import ASQ
from tests.security.helpers import signed_in

BODY = f"{MARKER} Aigerim is settling in well; talk with her about the exams in the evenings."
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _write(client, pupil, body: str = BODY):
    path = f"/parents/pupils/{pupil.uuid}/summaries"
    return post(client, path, {"body": body})


def _release(client, summary, *, confirm: bool = True):
    page = f"/parents/pupils/{summary.pupil.uuid}/summaries"
    data = {f"release-{summary.uuid}-confirm": "y"} if confirm else {}
    from tests.factories import csrf_token

    data[f"release-{summary.uuid}-csrf_token"] = csrf_token(client, page)
    return client.post(f"/parents/summaries/{summary.uuid}/release", data=data)


def _parent_page(app, world) -> str:
    return signed_in(app, world.r1).get(f"/parents/child/{world.p1.uuid}").get_data(as_text=True)


def test_draft_release_and_take_back(app, world, english):
    psychologist = signed_in(app, world.psy1)
    assert _write(psychologist, world.p1).status_code == 302
    [summary] = summaries()
    assert not summary.released and summary.body == BODY
    assert MARKER not in _parent_page(app, world)

    assert _release(psychologist, summary, confirm=False).status_code == 302
    assert not summaries()[0].released  # the box was not ticked
    assert _release(psychologist, summary).status_code == 302
    assert summaries()[0].released and summaries()[0].released_by_id == world.psy1.id
    assert BODY in _parent_page(app, world)

    page = f"/parents/pupils/{world.p1.uuid}/summaries"
    assert post(psychologist, f"/parents/summaries/{summary.uuid}/withdraw", form_page=page).status_code == 302
    [summary] = summaries()
    assert not summary.released and summary.withdrawn_at is not None and summary.withdrawn_by_id == world.psy1.id
    assert MARKER not in _parent_page(app, world)
    assert [len(entries(a, pupil_id=world.p1.id)) for a in (
        AuditAction.SUMMARY_SAVED, AuditAction.SUMMARY_RELEASED, AuditAction.SUMMARY_WITHDRAWN)] == [1, 1, 1]


def test_a_released_summary_cannot_be_edited(app, world, english):
    psychologist = signed_in(app, world.psy1)
    _write(psychologist, world.p1)
    [summary] = summaries()
    _release(psychologist, summary)
    assert psychologist.get(f"/parents/summaries/{summary.uuid}/edit").status_code == 302
    changed = post(psychologist, f"/parents/summaries/{summary.uuid}/edit", {"body": "changed"},
                   form_page=f"/parents/pupils/{world.p1.uuid}/summaries")
    assert changed.status_code == 302 and summaries()[0].body == BODY
    with pytest.raises(services.SummaryError):
        services.save(actor=world.psy1, pupil=world.p1, summary=summaries()[0], body="changed")
    assert len(entries(AuditAction.SUMMARY_SAVED)) == 1


def test_bad_input_saves_nothing(app, world, english):
    psychologist = signed_in(app, world.psy1)
    assert _write(psychologist, world.p1, body="   ").status_code == 400
    assert _write(psychologist, world.p1, body="x" * 3001).status_code == 400
    assert summaries() == [] and entries(AuditAction.SUMMARY_SAVED) == []


def test_the_summary_is_encrypted_at_rest(app, world):
    _write(signed_in(app, world.psy1), world.p1)
    raw = db.session.execute(text("SELECT body_ct FROM parent_summaries")).scalar_one()
    assert MARKER.encode() not in bytes(raw)


def test_xss_in_a_summary_renders_inert(app, world, english):
    psychologist = signed_in(app, world.psy1)
    _write(psychologist, world.p1, body=XSS)
    _release(psychologist, summaries()[0])
    for body in (psychologist.get(f"/parents/pupils/{world.p1.uuid}/summaries").get_data(as_text=True),
                 _parent_page(app, world)):
        assert "<script>alert" not in body and "<img src=x" not in body and "&lt;script&gt;" in body


@pytest.mark.parametrize("who", ["admin", "a1", "soc1", "t7a", "r1", "pupil1", "d1", "reg1", "norole"])
def test_only_the_psychologist_reads_and_writes_summaries(app, world, english, who):
    psychologist = signed_in(app, world.psy1)
    _write(psychologist, world.p1)
    [summary] = summaries()
    client = signed_in(app, getattr(world, who))
    assert client.get(f"/parents/pupils/{world.p1.uuid}/summaries").status_code == 403
    assert client.get(f"/parents/summaries/{summary.uuid}/edit").status_code == 403
    for action in ("release", "withdraw", "edit"):
        response = post(client, f"/parents/summaries/{summary.uuid}/{action}", {"body": "x"}, form_page="/account")
        assert response.status_code == 403, action
    assert not summaries()[0].released and summaries()[0].body == BODY
    denied = [e for e in entries(AuditAction.ACCESS_DENIED, actor_id=getattr(world, who).id)
              if e.object_type in ("pupil", "parent_summary")]
    assert len(denied) == 5 and all(e.pupil_id == world.p1.id for e in denied)  # in the pupil's access log


def test_a_psychologist_of_another_school_gets_an_audited_404(app, world, english):
    _write(signed_in(app, world.psy1), world.p1)
    [summary] = summaries()
    other = signed_in(app, world.psy3)
    assert other.get(f"/parents/pupils/{world.p1.uuid}/summaries").status_code == 404
    assert other.get(f"/parents/summaries/{summary.uuid}/edit").status_code == 404
    page = f"/parents/pupils/{world.p3.uuid}/summaries"
    assert post(other, f"/parents/summaries/{summary.uuid}/release", form_page=page).status_code == 404
    assert not summaries()[0].released
    denied = entries(AuditAction.ACCESS_DENIED, actor_id=world.psy3.id)
    assert len(denied) == 3 and all(e.outcome == Outcome.DENIED.value and e.pupil_id == world.p1.id for e in denied)


def test_a_parent_sees_only_their_own_childs_released_summaries(app, world, english):
    psychologist = signed_in(app, world.psy1)
    _write(psychologist, world.p2, body=f"{MARKER} about p2")
    _release(psychologist, summaries()[0])
    other_parent = make_user(Role.PARENT, username="parent-p2", children=(world.p2,))
    db.session.commit()
    assert f"{MARKER} about p2" in signed_in(app, other_parent).get(
        f"/parents/child/{world.p2.uuid}").get_data(as_text=True)
    parent = signed_in(app, world.r1)
    assert parent.get(f"/parents/child/{world.p2.uuid}").status_code == 404
    for path in ("/parents/children", f"/parents/child/{world.p1.uuid}"):
        assert MARKER not in parent.get(path).get_data(as_text=True)


def test_parent_pages_never_show_answers_scores_registry_status_or_notes(app, world, english):
    """A pupil with an acute screening result and alert, a registry entry and a case with notes: none of it, nor
    a word about it, reaches the parent's pages; only the released summary does."""
    alert = acute_alert(world)
    register(world)
    case = open_case(world)
    from app.monitoring import services as monitoring

    monitoring.add_note(actor=world.psy1, case=case, body=f"{NOTE_MARKER} note")
    psychologist = signed_in(app, world.psy1)
    _write(psychologist, world.p1)
    _release(psychologist, summaries()[0])
    asq = instrument_for(ASQ).texts["en"]
    in_markup = [NOTE_MARKER, alert.uuid, case.uuid, "/screening/", "/monitoring/"]
    in_text = ["acute", "registr", "score", "alert", "case file", *(q.casefold() for q in list(asq.items.values())[:5])]
    parent = signed_in(app, world.r1)
    pages = ["/parents/children", f"/parents/child/{world.p1.uuid}", f"/consent/my-children/{world.p1.uuid}",
             f"/parents/meetings/new?child={world.p1.uuid}", "/"]
    for path in pages:
        response = parent.get(path)
        assert response.status_code == 200, path
        body = response.get_data(as_text=True)
        words = re.sub(r"<[^>]+>", " ", body).casefold()
        leaks = [m for m in in_markup if m in body] + [w for w in in_text if w in words]
        assert leaks == [], (path, leaks)
    assert BODY in parent.get(f"/parents/child/{world.p1.uuid}").get_data(as_text=True)


def test_an_unknown_summary_is_an_audited_404(app, world):
    psychologist = signed_in(app, world.psy1)
    random_id = str(uuid.uuid4())
    assert psychologist.get(f"/parents/summaries/{random_id}/edit").status_code == 404
    assert entries(AuditAction.ACCESS_DENIED, object_id=random_id)


def test_the_pupil_card_links_to_the_summaries_for_the_psychologist_only(app, world, english):
    link = f"/parents/pupils/{world.p1.uuid}/summaries"
    assert link in signed_in(app, world.psy1).get(f"/pupils/{world.p1.uuid}").get_data(as_text=True)
    assert link not in signed_in(app, world.soc1).get(f"/pupils/{world.p1.uuid}").get_data(as_text=True)


def test_releasing_emails_the_parents_a_link_without_the_text(app, world, english, monkeypatch):
    import json

    from app.core.mail import OutboxMessage

    monkeypatch.setitem(app.config, "SENIM_SMTP_HOST", "mail.invalid")
    world.r1.email = "mother@example.kz"
    other = make_user(Role.PARENT, username="parent-p2", children=(world.p2,))
    other.email = "other@example.kz"
    db.session.commit()
    psychologist = signed_in(app, world.psy1)
    _write(psychologist, world.p1)
    assert db.session.execute(text("SELECT count(*) FROM mail_outbox")).scalar_one() == 0  # a draft: no mail
    _release(psychologist, summaries()[0])
    db.session.expire_all()
    [message] = db.session.query(OutboxMessage).all()
    assert json.loads(message.recipients) == ["mother@example.kz"]
    assert f"/parents/child/{world.p1.uuid}" in message.body and MARKER not in message.body
