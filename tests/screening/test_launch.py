"""Rules that launch another instrument (PHQ-A question 9 → ASQ): the pupil goes on at once in the same visit.

A rule evaluated at each answer (PHQ-A question 9) launches when that answer is saved, and the pupil comes back to
the rest of the interrupted sitting afterwards; a rule evaluated at the submission (WHO-5 ≤ 28 % → PHQ-A) launches
then. Also the pupil's progress counter, whose total never changes half-way ("up to N" with skip logic).
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale, gettext
from sqlalchemy import select

from app.consent.models import Consent
from app.core import audit
from app.core.audit import AuditAction, AuditEntry
from app.core.models import utcnow
from app.extensions import db
from app.screening import launch, local, services
from app.screening.expiry import close_expired
from app.screening.models import Alert, ScreeningResult, ScreeningSession, SessionStatus
from app.screening.selfservice import OpenSession
from app.screening.views.pupil import ADULT
from tests.factories import World, csrf_token, login, make_pupil, post
from tests.screening.workflow_support import campaign, consent, session_with_code

PHQ_A, ASQ, WHO_5 = "phq-a@1.1", "asq@1.1", "who-5@1.1"
#: PHQ-A in form order up to item 9 (self-harm): items 1-8 "not at all", item 9 "several days" (the ASQ comes now).
PHQ_A_TO_ITEM_9 = [0, 0, 0, 0, 0, 0, 0, 0, 1]
#: The PHQ-A's questions 10 and 11 after the ASQ: past year "no", then "difficulty" (asked as item 9 is above 0).
PHQ_A_REST = [0, 0]
PHQ_A_CALM = [0] * 10  # item 9 "not at all": "difficulty" is not asked
ASQ_ACUTE = [1, 0, 0, 0, 1]
ASQ_NEGATIVE = [0, 0, 0, 0]


def _answer(client: FlaskClient, values: list[int], start: int = 1):
    """Answer the current sitting's questions in order from question ``start``; returns the last response."""
    token = csrf_token(client, "/s/q")
    response = None
    for n, value in enumerate(values, start=start):
        response = client.post(f"/s/q?n={n}", data={"answer": str(value), "nav": "next", "csrf_token": token})
        assert response.status_code == 302, (n, response.status_code)
    assert response is not None
    return response


def _start(client: FlaskClient, world: World, refs=(PHQ_A,), code: str = "PHQA-2345", pupil=None,
           ref: str = PHQ_A):
    pupil = pupil or world.p1
    consent(pupil)
    camp = campaign(world.psy1, world.s1, [world.c7a], refs=refs)
    sitting = session_with_code(camp, pupil, code=code, ref=ref, language="ru")
    assert post(client, "/s", {"code": code}).headers["Location"].endswith("/s/q")
    return camp, sitting


def _sessions(pupil) -> list[ScreeningSession]:
    db.session.expire_all()
    return list(db.session.execute(select(ScreeningSession).where(ScreeningSession.pupil_id == pupil.id)
                                   .order_by(ScreeningSession.id)).scalars())


def _launch_entries() -> list[AuditEntry]:
    return list(db.session.execute(select(AuditEntry).where(
        AuditEntry.action == str(AuditAction.SCREENING_SESSION_LAUNCHED)).order_by(AuditEntry.id)).scalars())


def _done_page(client: FlaskClient) -> str:
    return client.get("/s/done").get_data(as_text=True)


def _adult_comes(page: str) -> bool:
    """The acute ASQ's end: an adult from school will come, and the help lines 150, 111 and 112."""
    match = re.search(r'<html lang="(\w+)"', page)
    assert match
    with force_locale(match.group(1)):
        message = gettext("An adult from your school will come to talk with you very soon.")
    return ("alert--danger" in page and "tel:150" in page and "tel:111" in page and "tel:112" in page
            and message in page)


def _counter(page: str) -> tuple[str, str]:
    """The progress bar's (value, max) on a question page."""
    bar = re.search(r'<progress class="progress__bar" max="(\d+)" value="(\d+)"', page)
    assert bar
    return bar.group(2), bar.group(1)


# --- which rules launch what (pure) -------------------------------------------------------------


def test_launches_read_the_instrument_data(app_ctx: Flask):
    phq = services.instrument_for(PHQ_A)
    [found] = launch.launches(phq, {"phq-a.self_harm", "phq-a.total_high"})
    assert (found.instrument_id, found.rule) == ("asq", "phq-a.self_harm")
    assert launch.launches(phq, {"phq-a.total_high"}) == []
    [who] = launch.launches(services.instrument_for(WHO_5), {"who-5.low", "who-5.item_low"})
    assert who.instrument_id == "phq-a"


def test_every_shipped_launch_target_is_a_shipped_instrument(app_ctx: Flask, world: World):
    targets = {(i.ref, r.launch_instrument) for i in services.registry().current() for r in i.alerts
               if r.launch_instrument}
    assert ("phq-a@1.1", "asq") in targets and ("who-5@1.1", "phq-a") in targets
    for _ref, target in targets:
        assert launch.resolve(target, school_id=world.s1.id).id == target


# --- the pupil's journey ------------------------------------------------------------------------


def test_phq_a_item_9_takes_the_pupil_to_the_asq_at_once_then_back_to_the_rest(client: FlaskClient, world: World):
    camp, phq = _start(client, world)
    response = _answer(client, PHQ_A_TO_ITEM_9)
    assert response.headers["Location"].endswith("/s/q")  # not question 10, and no new code to type
    page = client.get("/s/q").get_data(as_text=True)
    asq_texts = services.instrument_for(ASQ).text("ru")
    assert asq_texts.title in page and asq_texts.items["q1"] in page and _counter(page) == ("1", "5")
    assert gettext("Thank you. Please answer a few more questions.") in page
    assert "/s/pause" not in page  # no card to come back with: the follow-up cannot be paused
    sessions = _sessions(world.p1)
    assert [(s.instrument_ref, s.status) for s in sessions] == [(PHQ_A, "in_progress"), (ASQ, "issued")]
    launched = sessions[1]
    assert launched.campaign_id == camp.id and launched.language == "ru"
    assert launched.code_expires_at <= utcnow() + timedelta(hours=2)
    # The PHQ-A's alert was raised with its answer and is kept; the launch is audited without pupil or rule.
    [alert] = db.session.execute(select(Alert)).scalars()
    assert alert.rule_id == "phq-a.self_harm" and alert.session_id == phq.id
    [entry] = _launch_entries()
    assert entry.object_id == launched.uuid and entry.pupil_id is None and "self_harm" not in str(entry.details)

    # After the ASQ, the PHQ-A goes on at its first unanswered question; its counter's total has not changed.
    assert _answer(client, ASQ_ACUTE).headers["Location"].endswith("/s/q")
    page = client.get("/s/q").get_data(as_text=True)
    phq_texts = services.instrument_for(PHQ_A).text("ru")
    assert phq_texts.title in page and phq_texts.items["past_year"] in page and _counter(page) == ("10", "11")
    assert "/s/pause" in page  # the PHQ-A has its card: it may be paused as before
    assert _answer(client, PHQ_A_REST, start=10).headers["Location"].endswith("/s/done")
    assert _adult_comes(_done_page(client))
    results = db.session.execute(select(ScreeningResult).order_by(ScreeningResult.id)).scalars().all()
    assert [(r.instrument_ref, r.session_id, r.campaign_id, r.pupil_id) for r in results] == [
        (ASQ, launched.id, camp.id, world.p1.id), (PHQ_A, phq.id, camp.id, world.p1.id)]
    severities = sorted(a.severity for a in db.session.execute(select(Alert)).scalars())
    assert severities == ["acute", "urgent"]  # one alert per sitting
    # The PHQ-A's submission neither starts the ASQ again nor records a refusal for it.
    assert len(_launch_entries()) == 1 and {s.status for s in _sessions(world.p1)} == {"completed"}


def test_the_answer_its_alert_and_the_launch_commit_together(app_ctx: Flask, world: World, monkeypatch):
    camp = campaign(world.psy1, world.s1, [world.c7a], refs=(PHQ_A,))
    phq = session_with_code(camp, world.p1, ref=PHQ_A, language="ru")
    items = services.instrument_for(PHQ_A).item_ids
    for item in items[:8]:
        services.save_answer(session=OpenSession.of(phq), item_id=item, value=0)
    real = audit.record

    def answer_entry_fails(actor, action, **kwargs):
        if action == AuditAction.SCREENING_ANSWER_SAVED:
            raise RuntimeError("audit down")
        return real(actor, action, **kwargs)

    monkeypatch.setattr(audit, "record", answer_entry_fails)
    with pytest.raises(RuntimeError):
        services.save_answer(session=OpenSession.of(phq), item_id="self_harm", value=1)
    monkeypatch.undo()
    assert [s.id for s in _sessions(world.p1)] == [phq.id] and db.session.execute(select(Alert)).first() is None
    assert "self_harm" not in phq.draft and _launch_entries() == []

    saved = services.save_answer(session=OpenSession.of(phq), item_id="self_harm", value=1)
    [asq] = saved.follow_ups.sessions
    assert asq.instrument_ref == ASQ and saved.follow_ups.adult_comes and saved.follow_ups.refused == []
    [alert] = saved.alerts
    db.session.rollback()
    assert [s.id for s in _sessions(world.p1)] == [phq.id, asq.id] and db.session.get(Alert, alert.id) is not None
    # One transaction, one audit chain (the sitting's lane): the alert's entry and the launch's.
    chains = {e.chain_id for e in db.session.execute(select(AuditEntry).where(AuditEntry.action.in_(
        [str(AuditAction.ALERT_RAISED), str(AuditAction.SCREENING_SESSION_LAUNCHED)]))).scalars()}
    assert len(chains) == 1
    # Later answers, item 9 changed included, launch nothing more and refuse nothing.
    for item, value in (("self_harm", 2), ("self_harm", 0), ("self_harm", 3), ("past_year", 0)):
        again = services.save_answer(session=OpenSession.of(phq), item_id=item, value=value)
        assert again.follow_ups.sessions == [] and again.follow_ups.refused == []
    assert len(_launch_entries()) == 1 and len(_sessions(world.p1)) == 2


def test_a_negative_asq_after_item_9_still_ends_with_the_adult_and_the_help_lines(client, world):
    _start(client, world)
    _answer(client, PHQ_A_TO_ITEM_9)
    assert _answer(client, ASQ_NEGATIVE).headers["Location"].endswith("/s/q")
    assert _answer(client, PHQ_A_REST, start=10).headers["Location"].endswith("/s/done")
    assert _adult_comes(_done_page(client))


def test_phq_a_without_item_9_ends_calmly_and_launches_nothing(client, world):
    _start(client, world)
    assert _answer(client, PHQ_A_CALM).headers["Location"].endswith("/s/done")
    page = _done_page(client)
    assert "alert--danger" not in page and "tel:150" in page
    assert len(_sessions(world.p1)) == 1


def test_item_9_changed_after_the_asq_launches_nothing_more_and_the_alert_stays(client, world):
    _start(client, world)
    _answer(client, PHQ_A_TO_ITEM_9)
    _answer(client, ASQ_NEGATIVE)
    token = csrf_token(client, "/s/q")
    for value in (2, 0):  # back to question 9, changed twice: the pupil stays in the PHQ-A
        response = client.post("/s/q?n=9", data={"answer": str(value), "nav": "next", "csrf_token": token})
        assert response.headers["Location"].endswith("/s/q?n=10")
    response = client.post("/s/q?n=10", data={"answer": "0", "nav": "next", "csrf_token": token})  # the last now
    assert response.headers["Location"].endswith("/s/done")
    assert _adult_comes(_done_page(client))  # the alert stays, and so does the adult's visit
    assert [s.instrument_ref for s in _sessions(world.p1)] == [PHQ_A, ASQ]
    [phq_alert] = [a for a in db.session.execute(select(Alert)).scalars() if a.instrument_ref == PHQ_A]
    assert phq_alert.rule_id == "phq-a.self_harm" and phq_alert.resolved_at is None
    assert [e.outcome for e in _launch_entries()] == ["success"]


def test_after_the_asq_the_phq_a_code_resumes_the_rest_and_ends_with_help(client, world):
    _start(client, world)
    _answer(client, PHQ_A_TO_ITEM_9)
    _answer(client, ASQ_NEGATIVE)  # back in the PHQ-A at question 10: the pupil walks away, comes back later
    assert post(client, "/s", {"code": "PHQA-2345"}).headers["Location"].endswith("/s/q")
    with client.session_transaction() as cookie:
        assert ADULT not in cookie  # a code starts afresh: the end page's message comes from the PHQ-A itself
    page = client.get("/s/q").get_data(as_text=True)
    assert services.instrument_for(PHQ_A).text("ru").items["past_year"] in page and _counter(page) == ("10", "11")
    assert _answer(client, PHQ_A_REST, start=10).headers["Location"].endswith("/s/done")
    assert _adult_comes(_done_page(client))
    assert [s.status for s in _sessions(world.p1)] == ["completed", "completed"] and len(_launch_entries()) == 1


def test_an_open_asq_of_the_campaign_is_continued_not_started_twice(client, world):
    camp, phq = _start(client, world, refs=(PHQ_A, ASQ))
    printed = session_with_code(camp, world.p1, code="ASQQ-2345", ref=ASQ)  # its code is on the card
    assert _answer(client, PHQ_A_TO_ITEM_9).headers["Location"].endswith("/s/q")
    assert [s.id for s in _sessions(world.p1)] == [phq.id, printed.id]
    db.session.refresh(printed)
    assert printed.language == "ru"
    page = client.get("/s/q").get_data(as_text=True)
    assert services.instrument_for(ASQ).text("ru").items["q1"] in page
    _answer(client, ASQ_NEGATIVE)
    _answer(client, PHQ_A_REST, start=10)
    db.session.refresh(printed)
    assert printed.status == SessionStatus.COMPLETED and _adult_comes(_done_page(client))
    assert [json.loads(e.details)["new"] for e in _launch_entries()] == [False]


def test_an_asq_already_taken_in_the_campaign_is_refused_once_and_the_phq_a_goes_on(client, world):
    camp, phq = _start(client, world, refs=(PHQ_A, ASQ))
    taken = session_with_code(camp, world.p1, code="ASQQ-2345", ref=ASQ, language="ru")
    answers = dict(zip(("q1", "q2", "q3", "q4"), ASQ_NEGATIVE, strict=True))
    services.submit_result(actor=None, session=taken, answers=answers)
    assert _answer(client, PHQ_A_TO_ITEM_9).headers["Location"].endswith("/s/q?n=10")
    assert _answer(client, PHQ_A_REST, start=10).headers["Location"].endswith("/s/done")
    assert _adult_comes(_done_page(client))
    assert len(_sessions(world.p1)) == 2
    [entry] = _launch_entries()  # refused at the answer; the submission does not try (or refuse) again
    assert entry.outcome == "denied" and json.loads(entry.details)["reason"] == "done" and entry.object_id == phq.uuid


def test_a_consent_refusal_at_the_answer_keeps_the_alert_and_the_pupil_goes_on(client, world, monkeypatch):
    """A withdrawal that another request commits between the answer's save (which checked consent) and the
    launch's own check: no ASQ, the alert stays, the PHQ-A goes on until the next save sees the withdrawal."""
    _camp, phq = _start(client, world)
    monkeypatch.setattr(launch, "consent", SimpleNamespace(has_valid_consent=lambda _pupil: False))
    assert _answer(client, PHQ_A_TO_ITEM_9).headers["Location"].endswith("/s/q?n=10")
    monkeypatch.undo()
    page = client.get("/s/q?n=10").get_data(as_text=True)
    assert services.instrument_for(PHQ_A).text("ru").items["past_year"] in page
    assert [s.instrument_ref for s in _sessions(world.p1)] == [PHQ_A]
    [alert] = db.session.execute(select(Alert)).scalars()
    assert alert.rule_id == "phq-a.self_harm" and alert.resolved_at is None
    [entry] = _launch_entries()
    assert entry.outcome == "denied" and json.loads(entry.details) == {"instrument": "asq", "reason": "consent"}
    assert entry.object_id == phq.uuid

    for record in db.session.execute(select(Consent).where(Consent.pupil_id == world.p1.id)).scalars():
        record.withdrawn_at = utcnow()
    db.session.commit()
    assert _answer(client, [0], start=10).headers["Location"].endswith("/s/unavailable")
    assert _adult_comes(client.get("/s/unavailable").get_data(as_text=True))  # the neutral page keeps the message


def test_launching_twice_for_one_sitting_gives_one_follow_up(app_ctx, world):
    consent(world.p1)
    camp = campaign(world.psy1, world.s1, [world.c7a], refs=(PHQ_A,))
    phq = session_with_code(camp, world.p1, ref=PHQ_A, language="ru")
    first = launch.start_follow_ups(session=phq, instrument=services.instrument_for(PHQ_A),
                                    rule_ids={"phq-a.self_harm"}, now=utcnow())
    again = launch.start_follow_ups(session=phq, instrument=services.instrument_for(PHQ_A),
                                    rule_ids={"phq-a.self_harm"}, now=utcnow())
    assert [s.id for s in again.sessions] == [s.id for s in first.sessions]
    assert len(_sessions(world.p1)) == 2


def test_a_rule_launched_before_is_neither_started_nor_refused_again(app_ctx, world):
    camp = campaign(world.psy1, world.s1, [world.c7a], refs=(PHQ_A,))
    phq = session_with_code(camp, world.p1, ref=PHQ_A, language="ru")
    follow = launch.start_follow_ups(session=phq, instrument=services.instrument_for(PHQ_A),
                                     rule_ids={"phq-a.self_harm"}, launched_before={"phq-a.self_harm"}, now=utcnow())
    assert (follow.sessions, follow.refused, follow.adult_comes) == ([], [], True)
    assert len(_sessions(world.p1)) == 1 and _launch_entries() == []
    assert launch.answer_rules(services.instrument_for(PHQ_A), {"phq-a.self_harm", "phq-a.total_high"}) == {
        "phq-a.self_harm"}


def test_withdrawn_consent_refuses_the_launch_but_keeps_the_adult_message(app_ctx, world):
    record = consent(world.p1)
    camp = campaign(world.psy1, world.s1, [world.c7a], refs=(PHQ_A,))
    phq = session_with_code(camp, world.p1, ref=PHQ_A, language="ru")
    record.withdrawn_at = utcnow()
    db.session.commit()
    follow = launch.start_follow_ups(session=phq, instrument=services.instrument_for(PHQ_A),
                                     rule_ids={"phq-a.self_harm"}, now=utcnow())
    assert follow.sessions == [] and follow.refused == [("asq", launch.Refusal.CONSENT)] and follow.adult_comes


def _young(world: World):
    pupil = make_pupil(world.c7a, birth_date=date.today() - timedelta(days=365 * 10 + 40))
    db.session.commit()
    return pupil


def test_a_pupil_too_young_for_the_launched_instrument_gets_the_end_page_and_keeps_the_alert(client, world):
    """WHO-5 ≤ 28 % launches the PHQ-A (from 11): a ten-year-old is not given it, the alert and the help stay."""
    young = _young(world)
    _start(client, world, refs=(WHO_5,), ref=WHO_5, pupil=young, code="WHO5-2345")
    assert _answer(client, [0, 0, 0, 0, 0]).headers["Location"].endswith("/s/done")
    assert _adult_comes(_done_page(client))
    assert [s.instrument_ref for s in _sessions(young)] == [WHO_5]
    [alert] = db.session.execute(select(Alert)).scalars()
    assert "who-5.low" in alert.details.rules and alert.resolved_at is None
    [entry] = _launch_entries()
    assert json.loads(entry.details) == {"instrument": "phq-a", "reason": "age"}


def test_launches_chain_who_5_to_phq_a_at_submit_to_asq_at_the_answer_in_one_visit(client, world):
    _start(client, world, refs=(WHO_5,), ref=WHO_5, code="WHO5-2345")
    assert _answer(client, [0, 0, 0, 0]).headers["Location"].endswith("/s/q?n=5")
    assert len(_sessions(world.p1)) == 1  # WHO-5 ≤ 28 % is a rule of the submission: nothing launched yet
    assert _answer(client, [0], start=5).headers["Location"].endswith("/s/q")
    assert _answer(client, PHQ_A_TO_ITEM_9).headers["Location"].endswith("/s/q")
    assert _answer(client, ASQ_ACUTE).headers["Location"].endswith("/s/q")
    page = client.get("/s/q").get_data(as_text=True)
    assert "/s/pause" not in page and _counter(page) == ("10", "11")  # the launched PHQ-A has no card either
    assert _answer(client, PHQ_A_REST, start=10).headers["Location"].endswith("/s/done")
    assert _adult_comes(_done_page(client))
    sittings = _sessions(world.p1)
    assert [s.instrument_ref for s in sittings] == [WHO_5, PHQ_A, ASQ]
    assert {s.status for s in sittings} == {SessionStatus.COMPLETED.value}
    assert len({s.campaign_id for s in sittings}) == 1


def test_an_abandoned_launched_asq_is_closed_soon_and_gets_the_fail_safe(client, world):
    _start(client, world)
    _answer(client, PHQ_A_TO_ITEM_9)
    _answer(client, [1])  # question 1 "yes", then the pupil walks away
    asq_alert = next(a for a in db.session.execute(select(Alert)).scalars() if a.instrument_ref == ASQ)
    assert asq_alert.severity == "urgent"  # in the inbox at once
    # The PHQ-A's code still resumes the PHQ-A (not the ASQ, which is never started again).
    assert post(client, "/s", {"code": "PHQA-2345"}).headers["Location"].endswith("/s/q")
    assert _answer(client, PHQ_A_REST, start=10).headers["Location"].endswith("/s/done")
    assert _adult_comes(_done_page(client))
    assert [(s.instrument_ref, s.status) for s in _sessions(world.p1)] == [(PHQ_A, "completed"),
                                                                            (ASQ, "in_progress")]
    assert close_expired(utcnow() + timedelta(hours=3)).submitted == 1  # the campaign itself is still open
    db.session.expire_all()
    assert db.session.get(Alert, asq_alert.id).severity == "acute"  # positive, acuity unknown
    assert len(_launch_entries()) == 1


def test_a_new_code_after_the_chain_starts_afresh(client, world):
    camp, _phq = _start(client, world)
    _answer(client, PHQ_A_TO_ITEM_9)
    _answer(client, ASQ_NEGATIVE)
    _answer(client, PHQ_A_REST, start=10)
    session_with_code(camp, world.p2, code="NEXT-2345", ref=PHQ_A, language="ru")
    consent(world.p2)
    post(client, "/s", {"code": "NEXT-2345"})  # the next pupil on the same tablet
    _answer(client, PHQ_A_CALM)
    assert "alert--danger" not in _done_page(client)


# --- a school's own method ----------------------------------------------------------------------


def _local_files(target: str, *, evaluate: str = "on_submit", item: str = "q3") -> dict[str, bytes]:
    """The template method with its urgent rule (``item`` "often") launching ``target``."""
    texts = {name: (local.TEMPLATE_DIR / name).read_text(encoding="utf-8") for name in local.FILE_NAMES}
    rule = "    when: {item: q3, op: eq, value: 2}\n    evaluate: on_submit\n"
    assert rule in texts["instrument.yaml"]
    launching = (f"    when: {{item: {item}, op: eq, value: 2}}\n"
                 f"    evaluate: {evaluate}\n    launch_instrument: {target}\n")
    texts["instrument.yaml"] = texts["instrument.yaml"].replace(rule, launching)
    return {name: text.encode() for name, text in texts.items()}


@pytest.mark.parametrize("evaluate", ["on_submit", "on_answer"])
def test_a_local_method_that_launches_the_asq_takes_the_pupil_there(client, world, evaluate):
    """At its last answer or at its submission, the same: the method's sitting is submitted, then the ASQ."""
    method = local.upload(actor=world.psy1, school=world.s1, archive=None, files=_local_files("asq", evaluate=evaluate))
    _camp, _own = _start(client, world, refs=(method.ref,), ref=method.ref, code="MOOD-2345")
    assert _answer(client, [0, 0, 2]).headers["Location"].endswith("/s/q")  # question 3 "2": its urgent rule
    assert [(s.instrument_ref, s.status) for s in _sessions(world.p1)] == [(method.ref, "completed"), (ASQ, "issued")]
    assert _answer(client, ASQ_NEGATIVE).headers["Location"].endswith("/s/done")
    assert _adult_comes(_done_page(client))
    assert [e.outcome for e in _launch_entries()] == ["success"]


def test_a_pupil_too_young_for_an_instrument_launched_at_an_answer_goes_on_and_keeps_the_alert(client, world):
    """A method whose first question launches the PHQ-A (from 11) at once: a ten-year-old goes on with the method."""
    young = _young(world)
    files = _local_files("phq-a", evaluate="on_answer", item="q1")
    method = local.upload(actor=world.psy1, school=world.s1, archive=None, files=files)
    _start(client, world, refs=(method.ref,), ref=method.ref, pupil=young, code="MOOD-2345")
    assert _answer(client, [2]).headers["Location"].endswith("/s/q?n=2")
    [alert] = db.session.execute(select(Alert)).scalars()
    assert alert.resolved_at is None and alert.severity == "urgent"
    assert _answer(client, [0, 0], start=2).headers["Location"].endswith("/s/done")
    assert _adult_comes(_done_page(client))
    assert [s.instrument_ref for s in _sessions(young)] == [method.ref]
    [entry] = _launch_entries()  # refused at the answer, not again at the submission
    assert json.loads(entry.details) == {"instrument": "phq-a", "reason": "age"}


@pytest.mark.parametrize("target", ["no-such-test", "example-mood"])
def test_a_local_method_may_launch_only_an_instrument_that_exists(app_ctx, world, target):
    with pytest.raises(local.LocalUploadError) as caught:
        local.upload(actor=world.psy1, school=world.s1, archive=None, files=_local_files(target))
    [problem] = caught.value.problems
    with app_ctx.test_request_context(headers={"Accept-Language": "en"}):
        message = str(problem.message)
    assert problem.file == "instrument.yaml" and problem.line is not None and f"launch_instrument: {target}" in message


# --- paper entry --------------------------------------------------------------------------------


@pytest.mark.parametrize(("item_9", "told"), [(1, True), (0, False)])
def test_paper_phq_a_with_item_9_tells_the_psychologist_to_give_the_asq_now(client, world, item_9, told):
    consent(world.p1)
    login(client, world.psy1)
    url = f"/screening/paper/{world.p1.uuid}?instrument={PHQ_A}&language=kk"
    items = services.instrument_for(PHQ_A).item_ids
    data = {f"item_{i}": str(v) for i, v in zip(items, [0] * 8 + [item_9, 0, 0], strict=True)}
    page = post(client, url, data)
    page = client.get(page.headers["Location"]).get_data(as_text=True)
    link = re.compile(rf'href="/screening/paper/{world.p1.uuid}\?instrument=asq(@|%40)1\.1&amp;language=kk"')
    assert bool(link.search(page)) is told
    if told:
        assert client.get(f"/screening/paper/{world.p1.uuid}?instrument={ASQ}&language=kk").status_code == 200


# --- the progress counter -----------------------------------------------------------------------


def _progress(client: FlaskClient, n: int) -> tuple[str, str]:
    page = client.get(f"/s/q?n={n}").get_data(as_text=True)
    label = re.search(r'<p class="progress__label"[^>]*>([^<]*)</p>', page)
    bar = re.search(r'<progress class="progress__bar" max="(\d+)"', page)
    assert label and bar
    return label.group(1), bar.group(1)


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_the_total_does_not_change_when_skip_logic_shows_a_question(client, world, language):
    consent(world.p1)
    camp = campaign(world.psy1, world.s1, [world.c7a], refs=(ASQ,))
    session_with_code(camp, world.p1, code="ASQQ-2345", ref=ASQ, language=language)
    post(client, "/s", {"code": "ASQQ-2345"})
    with client.session_transaction() as cookie:
        cookie["language"] = language  # the interface's language, as the language page sets it
    with force_locale(language):
        expected = [gettext("Question %(current)s of up to %(total)s", current=n, total=5) for n in (1, 2)]
    assert _progress(client, 1) == (expected[0], "5")  # question 5 may or may not come
    _answer(client, [1])  # "yes": question 5 will be asked
    assert _progress(client, 2) == (expected[1], "5")


def test_without_skip_logic_the_total_is_exact(client, world):
    consent(world.p1)
    camp = campaign(world.psy1, world.s1, [world.c7a], refs=(WHO_5,))
    session_with_code(camp, world.p1, code="WHO5-2345", ref=WHO_5, language="en")
    post(client, "/s", {"code": "WHO5-2345"})
    with client.session_transaction() as cookie:
        cookie["language"] = "en"
    assert _progress(client, 1) == ("Question 1 of 5", "5")


def test_a_pupils_age_turns_at_the_schools_midnight_not_at_utcs(app_ctx, world):
    """Ages are taken on the school's date (UTC+5): at 20:00 UTC on 5 December it is already 6 December at school,
    so a pupil born on 6 December 2015 is 11 there and may take the GAD-7 (ages 11-18). On the machine's UTC date
    the pupil would still be 10 and refused until 05:00 school time."""
    from datetime import UTC, datetime

    pupil = make_pupil(world.c7a, birth_date=date(2015, 12, 6))
    consent(pupil)
    gad = services.instrument_for("gad-7@1.1")
    evening_utc = datetime(2026, 12, 5, 20, 0, tzinfo=UTC)
    assert launch.refusal(gad, pupil, now=evening_utc) is None
    assert launch.refusal(gad, pupil, now=datetime(2026, 12, 5, 18, 0, tzinfo=UTC)) is launch.Refusal.AGE
