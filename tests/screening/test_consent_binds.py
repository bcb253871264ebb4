"""Issue 8 item 10: withdrawn or expired consent stops screening at once.

Code entry, every answer save and the submission re-check consent; a withdrawal stops the pupil's unfinished
sittings (codes stop working, drafts erased) while results already submitted and alerts already raised stay; the
pupil sees a neutral page; the campaign page says why.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.consent import services as consent_services
from app.consent.models import Consent
from app.core.audit import AuditAction, AuditEntry
from app.core.database import end_autocommit
from app.core.models import utcnow
from app.extensions import db
from app.screening import services
from app.screening.expiry import close_expired
from app.screening.models import Alert, ScreeningResult, ScreeningSession
from app.screening.selfservice import OpenSession
from app.screening.stopping import ScreeningStopped
from app.screening.views.pupil import ACUTE
from tests.factories import csrf_token, login, post
from tests.screening.workflow_support import NEGATIVE_ASQ, campaign, session_with_code

ASQ_1_1 = "asq@1.1"


def _reload(sitting: ScreeningSession) -> ScreeningSession:
    db.session.expire_all()
    return db.session.get_one(ScreeningSession, sitting.id)


def _entries(action: AuditAction) -> list[AuditEntry]:
    return list(db.session.execute(select(AuditEntry).where(AuditEntry.action == str(action))).scalars())


def _withdraw_in_database_only(pupil) -> None:
    """A withdrawal committed by another request just now, before it reached the pupil's sittings (the race the
    per-step checks close): only the consent row changes."""
    for record in db.session.execute(select(Consent).where(Consent.pupil_id == pupil.id)).scalars():
        record.withdrawn_at = utcnow()
    db.session.commit()


def _expire(pupil) -> None:
    for record in db.session.execute(select(Consent).where(Consent.pupil_id == pupil.id)).scalars():
        record.valid_until = consent_services.today_local() - timedelta(days=1)
    db.session.commit()


def _start(client, code: str) -> None:
    assert post(client, "/s", {"code": code}).headers["Location"].endswith("/s/q")


def _answer(client, n: int, value: int):
    return post(client, f"/s/q?n={n}", {"answer": str(value)}, form_page=f"/s/q?n={n}")


def test_withdrawal_stops_unfinished_sittings_keeps_results_and_alerts(world):
    """What a withdrawal does to answers saved before it (README, "Consent")."""
    camp = campaign(world.psy1, world.s1, [world.c7a], refs=(ASQ_1_1,))
    done = session_with_code(camp, world.p1, code="DONE-2345", ref=ASQ_1_1, language="ru")
    result = services.submit_result(actor=None, session=done, answers=NEGATIVE_ASQ)
    open_ = session_with_code(camp, world.p1, code="OPEN-2345", ref=ASQ_1_1, language="ru")
    [raised] = services.save_answer(session=OpenSession.of(open_), item_id="q1", value=1).alerts  # a "yes": an alert
    untouched = session_with_code(camp, world.p2, code="PTWO-2345", ref=ASQ_1_1)

    assert consent_services.withdraw_consent(actor=world.r1, pupil=world.p1, as_parent=True) == 1

    stopped = _reload(open_)
    assert (stopped.status, stopped.stop_reason, stopped.draft_ct) == ("stopped", "consent_withdrawn", None)
    assert stopped.stopped_at is not None
    assert _reload(done).status == "completed"  # submitted with consent: kept
    assert db.session.get(ScreeningResult, result.id) is not None
    alert = db.session.get_one(Alert, raised.id)
    assert alert.resolved_at is None and alert.session_id == open_.id  # never lose an alert
    assert _reload(untouched).status == "issued"  # another pupil's sitting
    [entry] = _entries(AuditAction.SCREENING_SESSION_STOPPED)
    assert (entry.object_id, entry.pupil_id, entry.actor_id) == (stopped.uuid, world.p1.id, world.r1.id)
    assert '"reason": "consent_withdrawn"' in entry.details and '"answered": 1' in entry.details


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_an_issued_code_stops_working_and_the_pupil_sees_a_neutral_page(client, world, language):
    camp = campaign(world.psy1, world.s1, [world.c7a])
    session_with_code(camp, world.p1, code="WXYZ-2345")
    consent_services.withdraw_consent(actor=world.psy1, pupil=world.p1)
    post(client, "/language", {"language": language, "next": "/s"}, form_page="/s")

    response = post(client, "/s", {"code": "WXYZ-2345"})

    assert response.status_code == 302 and response.headers["Location"].endswith("/s/unavailable")
    page = client.get("/s/unavailable").get_data(as_text=True)
    assert "tel:150" in page and "tel:111" in page and "tel:112" in page
    main = page[page.index("<main"):page.index("</main>")].casefold()
    for word in ("consent", "parent", "withdr", "согласи", "родител", "отозва", "келісім", "ата-ана"):
        assert word not in main, word
    assert _entries(AuditAction.SCREENING_CODE_FAILED) == []  # a real code: not counted as a guess


def test_an_expired_consent_is_noticed_at_code_entry(client, world):
    camp = campaign(world.psy1, world.s1, [world.c7a])
    sitting = session_with_code(camp, world.p1, code="WXYZ-2345")
    _expire(world.p1)
    assert post(client, "/s", {"code": "WXYZ-2345"}).headers["Location"].endswith("/s/unavailable")
    assert (_reload(sitting).status, _reload(sitting).stop_reason) == ("stopped", "consent_expired")


@pytest.mark.parametrize("end", [_withdraw_in_database_only, _expire])
def test_an_answer_after_the_consent_ended_is_not_saved(client, world, end):
    camp = campaign(world.psy1, world.s1, [world.c7a])
    sitting = session_with_code(camp, world.p1, code="WXYZ-2345", language="ru")
    _start(client, "WXYZ-2345")
    assert _answer(client, 1, 0).status_code == 302
    saved = len(_entries(AuditAction.SCREENING_ANSWER_SAVED))
    end(world.p1)

    response = _answer(client, 2, 1)

    assert response.headers["Location"].endswith("/s/unavailable")
    stopped = _reload(sitting)
    assert stopped.status == "stopped" and stopped.draft_ct is None  # nothing of the sitting is kept
    assert len(_entries(AuditAction.SCREENING_ANSWER_SAVED)) == saved
    # The code no longer works either.
    assert post(client, "/s", {"code": "WXYZ-2345"}).headers["Location"].endswith("/s/unavailable")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_pupil_in_the_middle_of_a_withdrawn_sitting_gets_the_neutral_page(client, world, method):
    camp = campaign(world.psy1, world.s1, [world.c7a])
    session_with_code(camp, world.p1, code="WXYZ-2345", language="ru")
    _start(client, "WXYZ-2345")
    assert _answer(client, 1, 0).status_code == 302
    token = csrf_token(client, "/s/q?n=2")
    end_autocommit()  # the test shares the requests' database session (a real request has its own)
    consent_services.withdraw_consent(actor=world.psy1, pupil=world.p1)
    if method == "GET":
        response = client.get("/s/q?n=2")
    else:
        response = client.post("/s/q?n=2", data={"answer": "0", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/s/unavailable")


def test_the_answer_save_checks_consent_in_its_own_statement(world):
    camp = campaign(world.psy1, world.s1, [world.c7a])
    sitting = session_with_code(camp, world.p1, language="ru")
    services.save_answer(session=OpenSession.of(sitting), item_id="q1", value=0)
    before = OpenSession.of(_reload(sitting))  # read while consent was valid, as a request does
    _withdraw_in_database_only(world.p1)
    with pytest.raises(ScreeningStopped):
        services.save_answer(session=before, item_id="q2", value=1)
    assert _reload(sitting).status == "stopped"


def test_submission_after_the_consent_ended_saves_nothing(world):
    camp = campaign(world.psy1, world.s1, [world.c7a])
    sitting = session_with_code(camp, world.p1, language="ru")
    _expire(world.p1)
    with pytest.raises(ScreeningStopped):
        services.submit_result(actor=None, session=_reload(sitting), answers=NEGATIVE_ASQ)
    assert db.session.execute(select(func.count(ScreeningResult.id))).scalar_one() == 0
    assert _reload(sitting).status == "stopped"


def test_close_expired_stops_lapsed_sittings_instead_of_scoring_their_drafts(app_ctx, world):
    camp = campaign(world.psy1, world.s1, [world.c7a])
    sitting = session_with_code(camp, world.p1, language="ru")
    services.save_answer(session=OpenSession.of(sitting), item_id="q1", value=1)
    _expire(world.p1)
    closed = close_expired(utcnow() + timedelta(days=8))
    assert (closed.submitted, closed.expired, closed.stopped) == (0, 0, 1)
    assert db.session.execute(select(func.count(ScreeningResult.id))).scalar_one() == 0
    assert _reload(sitting).status == "stopped" and _reload(sitting).draft_ct is None
    output = app_ctx.test_cli_runner().invoke(args=["screening", "close-expired"]).output
    assert "0 stopped (consent ended)" in output


def test_an_acute_message_already_shown_stays_on_the_neutral_page(client, world):
    with client.session_transaction() as flask_session:
        flask_session[ACUTE] = True
    page = client.get("/s/unavailable").get_data(as_text=True)
    assert "alert--danger" in page and "tel:150" in page


def test_consent_given_again_does_not_revive_a_stopped_code(client, world):
    camp = campaign(world.psy1, world.s1, [world.c7a])
    session_with_code(camp, world.p1, code="WXYZ-2345")
    consent_services.withdraw_consent(actor=world.psy1, pupil=world.p1)
    consent_services.record_paper_consent(actor=world.psy1, pupil=world.p1, signed_on=consent_services.today_local())
    assert post(client, "/s", {"code": "WXYZ-2345"}).headers["Location"].endswith("/s/unavailable")


def test_the_campaign_page_says_why_a_pupil_was_stopped(client, world):
    camp = campaign(world.psy1, world.s1, [world.c7a, world.c8b])
    session_with_code(camp, world.p1, code="WXYZ-2345")
    session_with_code(camp, world.p2, code="PTWO-2345")
    consent_services.withdraw_consent(actor=world.psy1, pupil=world.p1)
    _expire(world.p2)
    login(client, world.psy1)
    post(client, "/language", {"language": "en", "next": "/"}, form_page="/screening/campaigns")
    page = client.get(f"/screening/campaigns/{camp.uuid}").get_data(as_text=True)
    today = consent_services.today_local().strftime("%d %b %Y").lstrip("0")
    assert f"stopped: consent withdrawn on {today}" in page
    assert f"Consent withdrawn on {today}" in page
    valid_until = (consent_services.today_local() - timedelta(days=1)).strftime("%d %b %Y").lstrip("0")
    assert f"Consent expired: it was valid until {valid_until}" in page
    assert "stopped: no valid consent" in page  # p2's code: stopped at the next step or by close-expired


def test_an_earlier_pupils_acute_message_is_not_shown_for_a_stopped_code(client, world):
    """A shared class device: the code typed now is another sitting; its calm page carries no earlier message."""
    camp = campaign(world.psy1, world.s1, [world.c7a])
    session_with_code(camp, world.p1, code="WXYZ-2345")
    consent_services.withdraw_consent(actor=world.psy1, pupil=world.p1)
    with client.session_transaction() as flask_session:
        flask_session[ACUTE] = True
    assert post(client, "/s", {"code": "WXYZ-2345"}).headers["Location"].endswith("/s/unavailable")
    assert "alert--danger" not in client.get("/s/unavailable").get_data(as_text=True)
