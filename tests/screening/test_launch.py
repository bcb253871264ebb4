"""Rules that launch another instrument (PHQ-A question 9 → ASQ): the pupil goes on at once in the same visit.

Also the pupil's progress counter, whose total never changes half-way ("up to N" with skip logic).
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale, gettext
from sqlalchemy import select

from app.core.audit import AuditAction, AuditEntry
from app.core.models import utcnow
from app.extensions import db
from app.screening import launch, local, services
from app.screening.expiry import close_expired
from app.screening.models import Alert, ScreeningResult, ScreeningSession, SessionStatus
from tests.factories import World, csrf_token, login, make_pupil, post
from tests.screening.workflow_support import campaign, consent, session_with_code

PHQ_A, ASQ, WHO_5 = "phq-a@1.1", "asq@1.1", "who-5@1.1"
#: PHQ-A in form order: items 1-8 "not at all", item 9 (self-harm) as given, past year "no", then "difficulty"
#: (asked because item 9 is above 0).
PHQ_A_ITEM_9 = [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]
PHQ_A_CALM = [0] * 10  # item 9 "not at all": "difficulty" is not asked
ASQ_ACUTE = [1, 0, 0, 0, 1]
ASQ_NEGATIVE = [0, 0, 0, 0]


def _answer(client: FlaskClient, values: list[int]):
    """Answer the current sitting's questions in order from the first; returns the last response."""
    token = csrf_token(client, "/s/q")
    response = None
    for n, value in enumerate(values, start=1):
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
    return list(db.session.execute(select(ScreeningSession).where(ScreeningSession.pupil_id == pupil.id)
                                   .order_by(ScreeningSession.id)).scalars())


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


def test_phq_a_item_9_takes_the_pupil_to_the_asq_at_once_and_ends_with_help(client: FlaskClient, world: World):
    camp, phq = _start(client, world)
    response = _answer(client, PHQ_A_ITEM_9)
    assert response.headers["Location"].endswith("/s/q")  # not the end page, and no new code to type
    page = client.get("/s/q").get_data(as_text=True)
    asq_texts = services.instrument_for(ASQ).text("ru")
    assert asq_texts.title in page and asq_texts.items["q1"] in page
    assert gettext("Thank you. Please answer a few more questions.") in page
    assert "/s/pause" not in page  # no card to come back with: the follow-up cannot be paused
    sessions = _sessions(world.p1)
    assert [s.instrument_ref for s in sessions] == [PHQ_A, ASQ]
    launched = sessions[1]
    assert launched.campaign_id == camp.id and launched.language == "ru"
    assert launched.code_expires_at <= utcnow() + timedelta(hours=2)
    # The PHQ-A's alert was raised with its answer and is kept; the launch is audited without pupil or rule.
    [alert] = db.session.execute(select(Alert)).scalars()
    assert alert.rule_id == "phq-a.self_harm" and alert.session_id == phq.id
    entry = db.session.execute(select(AuditEntry).where(
        AuditEntry.action == str(AuditAction.SCREENING_SESSION_LAUNCHED))).scalar_one()
    assert entry.object_id == launched.uuid and entry.pupil_id is None and "self_harm" not in str(entry.details)

    assert _answer(client, ASQ_ACUTE).headers["Location"].endswith("/s/done")
    assert _adult_comes(_done_page(client))
    results = db.session.execute(select(ScreeningResult).order_by(ScreeningResult.id)).scalars().all()
    assert [(r.instrument_ref, r.session_id, r.campaign_id, r.pupil_id) for r in results] == [
        (PHQ_A, phq.id, camp.id, world.p1.id), (ASQ, launched.id, camp.id, world.p1.id)]
    severities = sorted(a.severity for a in db.session.execute(select(Alert)).scalars())
    assert severities == ["acute", "urgent"]  # one alert per sitting


def test_a_negative_asq_after_item_9_still_ends_with_the_adult_and_the_help_lines(client, world):
    _start(client, world)
    _answer(client, PHQ_A_ITEM_9)
    assert _answer(client, ASQ_NEGATIVE).headers["Location"].endswith("/s/done")
    assert _adult_comes(_done_page(client))


def test_phq_a_without_item_9_ends_calmly_and_launches_nothing(client, world):
    _start(client, world)
    assert _answer(client, PHQ_A_CALM).headers["Location"].endswith("/s/done")
    page = _done_page(client)
    assert "alert--danger" not in page and "tel:150" in page
    assert len(_sessions(world.p1)) == 1


def test_item_9_corrected_to_zero_still_launches_since_its_alert_stays(client, world):
    _start(client, world)
    token = csrf_token(client, "/s/q")
    for n, value in enumerate(PHQ_A_ITEM_9[:9], start=1):
        client.post(f"/s/q?n={n}", data={"answer": str(value), "nav": "next", "csrf_token": token})
    client.post("/s/q?n=9", data={"answer": "0", "nav": "next", "csrf_token": token})  # back and changed
    response = client.post("/s/q?n=10", data={"answer": "0", "nav": "next", "csrf_token": token})  # the last now
    assert response.headers["Location"].endswith("/s/q")
    assert [s.instrument_ref for s in _sessions(world.p1)] == [PHQ_A, ASQ]


def test_an_open_asq_of_the_campaign_is_continued_not_started_twice(client, world):
    camp, _phq = _start(client, world, refs=(PHQ_A, ASQ))
    printed = session_with_code(camp, world.p1, code="ASQQ-2345", ref=ASQ)  # its code is on the card
    _answer(client, PHQ_A_ITEM_9)
    assert [s.id for s in _sessions(world.p1)] == [_phq.id, printed.id]
    db.session.refresh(printed)
    assert printed.language == "ru"
    page = client.get("/s/q").get_data(as_text=True)
    assert services.instrument_for(ASQ).text("ru").items["q1"] in page
    _answer(client, ASQ_NEGATIVE)
    db.session.refresh(printed)
    assert printed.status == SessionStatus.COMPLETED and _adult_comes(_done_page(client))


def test_an_asq_already_taken_in_the_campaign_is_not_launched_again(client, world):
    camp, phq = _start(client, world, refs=(PHQ_A, ASQ))
    taken = session_with_code(camp, world.p1, code="ASQQ-2345", ref=ASQ, language="ru")
    answers = dict(zip(("q1", "q2", "q3", "q4"), ASQ_NEGATIVE, strict=True))
    services.submit_result(actor=None, session=taken, answers=answers)
    assert _answer(client, PHQ_A_ITEM_9).headers["Location"].endswith("/s/done")
    assert _adult_comes(_done_page(client))
    assert len(_sessions(world.p1)) == 2
    entry = db.session.execute(select(AuditEntry).where(
        AuditEntry.action == str(AuditAction.SCREENING_SESSION_LAUNCHED))).scalar_one()
    assert entry.outcome == "denied" and json.loads(entry.details)["reason"] == "done" and entry.object_id == phq.uuid


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


def test_withdrawn_consent_refuses_the_launch_but_keeps_the_adult_message(app_ctx, world):
    record = consent(world.p1)
    camp = campaign(world.psy1, world.s1, [world.c7a], refs=(PHQ_A,))
    phq = session_with_code(camp, world.p1, ref=PHQ_A, language="ru")
    record.withdrawn_at = utcnow()
    db.session.commit()
    follow = launch.start_follow_ups(session=phq, instrument=services.instrument_for(PHQ_A),
                                     rule_ids={"phq-a.self_harm"}, now=utcnow())
    assert follow.sessions == [] and follow.refused == [("asq", launch.Refusal.CONSENT)] and follow.adult_comes


def test_a_pupil_too_young_for_the_launched_instrument_gets_the_end_page_and_keeps_the_alert(client, world):
    """WHO-5 ≤ 28 % launches the PHQ-A (from 11): a ten-year-old is not given it, the alert and the help stay."""
    young = make_pupil(world.c7a, birth_date=date.today() - timedelta(days=365 * 10 + 40))
    db.session.commit()
    _start(client, world, refs=(WHO_5,), ref=WHO_5, pupil=young, code="WHO5-2345")
    assert _answer(client, [0, 0, 0, 0, 0]).headers["Location"].endswith("/s/done")
    assert _adult_comes(_done_page(client))
    assert [s.instrument_ref for s in _sessions(young)] == [WHO_5]
    [alert] = db.session.execute(select(Alert)).scalars()
    assert "who-5.low" in alert.details.rules and alert.resolved_at is None
    entry = db.session.execute(select(AuditEntry).where(
        AuditEntry.action == str(AuditAction.SCREENING_SESSION_LAUNCHED))).scalar_one()
    assert json.loads(entry.details) == {"instrument": "phq-a", "reason": "age"}


def test_launches_chain_who_5_to_phq_a_to_asq_in_one_visit(client, world):
    _start(client, world, refs=(WHO_5,), ref=WHO_5, code="WHO5-2345")
    assert _answer(client, [0, 0, 0, 0, 0]).headers["Location"].endswith("/s/q")
    assert _answer(client, PHQ_A_ITEM_9).headers["Location"].endswith("/s/q")
    assert _answer(client, ASQ_ACUTE).headers["Location"].endswith("/s/done")
    assert _adult_comes(_done_page(client))
    sittings = _sessions(world.p1)
    assert [s.instrument_ref for s in sittings] == [WHO_5, PHQ_A, ASQ]
    assert {s.status for s in sittings} == {SessionStatus.COMPLETED.value}
    assert len({s.campaign_id for s in sittings}) == 1


def test_an_abandoned_launched_asq_is_closed_soon_and_gets_the_fail_safe(client, world):
    _start(client, world)
    _answer(client, PHQ_A_ITEM_9)
    _answer(client, [1])  # question 1 "yes", then the pupil walks away
    asq_alert = next(a for a in db.session.execute(select(Alert)).scalars() if a.instrument_ref == ASQ)
    assert asq_alert.severity == "urgent"  # in the inbox at once
    assert close_expired(utcnow() + timedelta(hours=3)).submitted == 1  # the campaign itself is still open
    db.session.expire_all()
    assert db.session.get(Alert, asq_alert.id).severity == "acute"  # positive, acuity unknown


def test_a_new_code_after_the_chain_starts_afresh(client, world):
    camp, _phq = _start(client, world)
    _answer(client, PHQ_A_ITEM_9)
    _answer(client, ASQ_NEGATIVE)
    session_with_code(camp, world.p2, code="NEXT-2345", ref=PHQ_A, language="ru")
    consent(world.p2)
    post(client, "/s", {"code": "NEXT-2345"})  # the next pupil on the same tablet
    _answer(client, PHQ_A_CALM)
    assert "alert--danger" not in _done_page(client)


# --- a school's own method ----------------------------------------------------------------------


def _local_files(target: str) -> dict[str, bytes]:
    texts = {name: (local.TEMPLATE_DIR / name).read_text(encoding="utf-8") for name in local.FILE_NAMES}
    texts["instrument.yaml"] = texts["instrument.yaml"].replace(
        "    evaluate: on_submit\n", f"    evaluate: on_submit\n    launch_instrument: {target}\n")
    return {name: text.encode() for name, text in texts.items()}


def test_a_local_method_that_launches_the_asq_takes_the_pupil_there(client, world):
    method = local.upload(actor=world.psy1, school=world.s1, archive=None, files=_local_files("asq"))
    _camp, _own = _start(client, world, refs=(method.ref,), ref=method.ref, code="MOOD-2345")
    assert _answer(client, [0, 0, 2]).headers["Location"].endswith("/s/q")  # question 3 "2": its urgent rule
    assert [s.instrument_ref for s in _sessions(world.p1)] == [method.ref, ASQ]
    assert _answer(client, ASQ_NEGATIVE).headers["Location"].endswith("/s/done")
    assert _adult_comes(_done_page(client))


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
