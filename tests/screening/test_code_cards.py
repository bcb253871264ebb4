"""Issue 8 item 11: codes are never lost or duplicated.

The printable cards are kept server-side (encrypted, for the issuer only) until marked printed or for
SENIM_CODE_CARDS_KEPT, so they survive a reload and a change of language; the page has a print button and a way
back; issuing again to a pupil with a live code asks first and replaces the code; a finished code says "already
completed"; one card per pupil lists every instrument.
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select, text

from app.auth.roles import Role
from app.core.audit import AuditAction, AuditEntry
from app.core.models import utcnow
from app.extensions import db
from app.screening import services
from app.screening.campaigns import issue_codes
from app.screening.models import CodeBatch, ScreeningSession
from app.screening.selfservice import OpenSession
from tests.factories import login, make_user, post
from tests.migration_support import MIGRATIONS, scratch_app
from tests.screening.workflow_support import NEGATIVE_ASQ, campaign, consent, session_with_code

ASQ, GAD = "asq@1.1", "gad-7@1.1"
CODE = re.compile(r'class="code-card__code">([2-9A-Z]{4}-[2-9A-Z]{4})<')


def _issue(client, camp, pupils, **extra):
    detail = f"/screening/campaigns/{camp.uuid}"
    return post(client, detail + "/codes", {"pupils": [p.uuid for p in pupils], **extra}, form_page=detail)


def _cards_page(client, camp, pupils) -> tuple[str, str]:
    response = _issue(client, camp, pupils)
    assert response.status_code == 302 and "/cards/" in response.headers["Location"]
    url = response.headers["Location"]
    return url, client.get(url).get_data(as_text=True)


def _entries(action: AuditAction) -> list[AuditEntry]:
    return list(db.session.execute(select(AuditEntry).where(AuditEntry.action == str(action))).scalars())


def _code_works(client, code: str) -> bool:
    response = post(client, "/s", {"code": code})
    with client.session_transaction() as flask_session:
        flask_session.pop("senim_screening", None)
    return response.status_code == 302 and response.headers["Location"].endswith(("/s/language", "/s/q"))


def _setup(client, world, refs=(ASQ,)):
    consent(world.p1)
    camp = campaign(world.psy1, world.s1, [world.c7a], refs=refs)
    login(client, world.psy1)
    return camp


def test_cards_survive_a_reload_and_a_language_switch(client, world):
    camp = _setup(client, world)
    url, page = _cards_page(client, camp, [world.p1])
    [code] = CODE.findall(page)
    assert CODE.findall(client.get(url).get_data(as_text=True)) == [code]  # reload
    for language in ("ru", "kk", "en"):
        switched = post(client, "/language", {"language": language, "next": url}, form_page="/screening/campaigns")
        assert switched.headers["Location"].endswith(url)
        page = client.get(url).get_data(as_text=True)
        assert CODE.findall(page) == [code] and f'lang="{language}"' in page
    assert len(_entries(AuditAction.SCREENING_CODES_VIEWED)) == 5  # each opening, before the codes are shown
    # Kept encrypted: neither the code nor the pupil's id in clear in the row.
    raw = bytes(db.session.execute(text("SELECT cards_ct FROM screening_code_batches")).scalar_one())
    assert code.encode() not in raw and b"pupil" not in raw
    assert _code_works(client, code)


def test_the_cards_page_has_a_print_button_and_a_way_back(client, world):
    camp = _setup(client, world)
    _url, page = _cards_page(client, camp, [world.p1])
    assert "data-print" in page and "/static/js/print.js" in page
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page) is None  # no inline script (CSP)
    assert f'href="/screening/campaigns/{camp.uuid}"' in page
    with client.get("/static/js/print.js") as response:
        script = response.get_data(as_text=True)
    assert "window.print()" in script and "[data-print]" in script


def test_only_the_issuer_opens_the_cards(client, world):
    camp = _setup(client, world)
    url, _page = _cards_page(client, camp, [world.p1])
    other = make_user(Role.PSYCHOLOGIST, school=world.s1)
    db.session.commit()
    with client.session_transaction() as flask_session:
        flask_session.clear()
    login(client, other)
    assert client.get(url).status_code == 404
    [denied] = _entries(AuditAction.ACCESS_DENIED)
    assert denied.object_type == "code_batch" and denied.school_id == world.s1.id
    with client.session_transaction() as flask_session:
        flask_session.clear()
    login(client, world.psy3)  # another school: the campaign itself is out of scope
    assert client.get(url).status_code == 404


def test_marked_printed_the_codes_are_deleted_but_keep_working(client, world):
    camp = _setup(client, world)
    post(client, "/language", {"language": "en", "next": "/"}, form_page="/screening/campaigns")
    url, page = _cards_page(client, camp, [world.p1])
    [code] = CODE.findall(page)
    detail = client.get(f"/screening/campaigns/{camp.uuid}").get_data(as_text=True)
    assert url in detail  # the campaign page leads back to cards not yet printed
    response = post(client, url + "/printed", form_page=url)
    assert response.headers["Location"].endswith(f"/screening/campaigns/{camp.uuid}")
    batch = db.session.execute(select(CodeBatch)).scalar_one()
    db.session.refresh(batch)
    assert batch.cards_ct is None and batch.printed_at is not None and batch.purged_at is not None
    [entry] = _entries(AuditAction.SCREENING_CODES_PRINTED)
    assert entry.object_id == batch.uuid and entry.actor_id == world.psy1.id
    page = client.get(url).get_data(as_text=True)
    assert "code-card" not in page and "marked as printed" in page
    assert url not in client.get(f"/screening/campaigns/{camp.uuid}").get_data(as_text=True)
    assert _code_works(client, code)


def test_unprinted_cards_are_deleted_after_the_configured_time(client, world, app_ctx):
    camp = _setup(client, world)
    url, _page = _cards_page(client, camp, [world.p1])
    batch = db.session.execute(select(CodeBatch)).scalar_one()
    assert batch.expires_at - batch.created_at == app_ctx.config["SENIM_CODE_CARDS_KEPT"] == timedelta(hours=24)
    batch.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    page = client.get(url).get_data(as_text=True)  # cleaned up on access
    assert "code-card" not in page
    db.session.refresh(batch)
    assert batch.cards_ct is None and batch.printed_at is None and batch.purged_at is not None
    [entry] = _entries(AuditAction.SCREENING_CODES_PURGED)
    assert entry.object_id == batch.uuid and entry.actor_id is None


def test_purge_command(app_ctx, world):
    consent(world.p1)
    camp = campaign(world.psy1, world.s1, [world.c7a], refs=(ASQ,))
    batch = issue_codes(actor=world.psy1, campaign=camp, pupils=[world.p1]).batch
    runner = app_ctx.test_cli_runner()
    assert "deleted the codes of 0 " in runner.invoke(args=["screening", "purge-code-cards"]).output
    batch.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert "deleted the codes of 1 " in runner.invoke(args=["screening", "purge-code-cards"]).output
    db.session.refresh(batch)
    assert batch.cards_ct is None


def test_one_card_per_pupil_lists_every_instrument(client, world):
    camp = _setup(client, world, refs=(ASQ, GAD))
    url, page = _cards_page(client, camp, [world.p1])
    assert page.count('class="code-card"') == 1 and len(CODE.findall(page)) == 2
    assert "(ASQ)" in page and "GAD-7" in page
    separate = client.get(url + "?layout=separate").get_data(as_text=True)
    assert separate.count('class="code-card"') == 2 and sorted(CODE.findall(separate)) == sorted(CODE.findall(page))


def test_issuing_again_asks_first_then_replaces_the_live_code(client, world):
    camp = _setup(client, world, refs=(ASQ, GAD))
    _url, page = _cards_page(client, camp, [world.p1])
    old_asq, old_gad = CODE.findall(page)
    # The pupil starts the ASQ and answers a question.
    assert _code_works(client, old_asq)
    asq = db.session.execute(select(ScreeningSession).where(ScreeningSession.instrument_ref == ASQ)).scalar_one()
    asq.language = "ru"
    db.session.commit()
    services.save_answer(session=OpenSession.of(asq), item_id="q1", value=0)
    old_uuid = asq.uuid

    asked = _issue(client, camp, [world.p1])
    assert asked.status_code == 200
    question = asked.get_data(as_text=True)
    assert 'name="replace" value="y"' in question and world.p1.short_name in question
    assert db.session.execute(select(func.count(CodeBatch.id))).scalar_one() == 1  # nothing issued yet
    assert _code_works(client, old_asq) and _code_works(client, old_gad)

    confirmed = _issue(client, camp, [world.p1], replace="y")
    assert confirmed.status_code == 302
    new_asq, new_gad = CODE.findall(client.get(confirmed.headers["Location"]).get_data(as_text=True))
    assert {new_asq, new_gad}.isdisjoint({old_asq, old_gad})
    assert not _code_works(client, old_asq) and not _code_works(client, old_gad)
    assert _code_works(client, new_gad)
    # Still one sitting per instrument; the ASQ keeps the answer given, under a new uuid (the old browser is out).
    assert db.session.execute(select(func.count(ScreeningSession.id))).scalar_one() == 2
    db.session.expire_all()
    asq = db.session.get_one(ScreeningSession, asq.id)
    assert asq.uuid != old_uuid and asq.draft == {"q1": 0} and asq.status == "in_progress"
    replaced = _entries(AuditAction.SCREENING_CODE_REPLACED)
    assert len(replaced) == 2 and all(e.actor_id == world.psy1.id for e in replaced)
    assert any(f'"previous": "{old_uuid}"' in e.details for e in replaced)
    assert _code_works(client, new_asq)


def test_a_finished_code_says_already_completed(client, world):
    camp = campaign(world.psy1, world.s1, [world.c7a])
    sitting = session_with_code(camp, world.p1, code="DONE-2345", language="ru")
    services.submit_result(actor=None, session=sitting, answers=NEGATIVE_ASQ)
    post(client, "/language", {"language": "en", "next": "/s"}, form_page="/s")
    page = post(client, "/s", {"code": "DONE-2345"}).get_data(as_text=True)
    assert "already completed" in page and "does not work" not in page
    assert _entries(AuditAction.SCREENING_CODE_FAILED) == []
    assert "does not work" in post(client, "/s", {"code": "NOPE-2345"}).get_data(as_text=True)


def test_completed_instruments_get_no_new_code(client, world):
    camp = _setup(client, world, refs=(ASQ, GAD))
    done = session_with_code(camp, world.p1, code="DONE-2345", ref=ASQ, language="ru")
    services.submit_result(actor=None, session=done, answers=NEGATIVE_ASQ)
    _url, page = _cards_page(client, camp, [world.p1])
    assert len(CODE.findall(page)) == 1 and "GAD-7" in page and "(ASQ)" not in page[page.index("code-sheet"):]


def test_migration_0012_up_and_down(tmp_path):
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect

    with scratch_app(f"sqlite:///{tmp_path / 'm.db'}"):
        upgrade(directory=MIGRATIONS, revision="0010_instruments_1_1")
        assert "screening_code_batches" not in inspect(db.engine).get_table_names()
        upgrade(directory=MIGRATIONS, revision="0012_code_cards")
        inspector = inspect(db.engine)
        assert "screening_code_batches" in inspector.get_table_names()
        columns = {c["name"] for c in inspector.get_columns("screening_sessions")}
        assert {"stopped_at", "stop_reason"} <= columns
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO regions (id, name_kk, name_ru) VALUES (1, 'r', 'r')"))
            conn.execute(text("INSERT INTO districts (id, region_id, name_kk, name_ru) VALUES (1, 1, 'd', 'd')"))
            conn.execute(text("INSERT INTO schools (id, district_id, name_kk, name_ru, default_language) "
                              "VALUES (1, 1, 's', 's', 'ru')"))
            conn.execute(text(
                "INSERT INTO pupils (id, uuid, school_id, last_name_ct, first_name_ct, name_bidx, birth_date, sex, "
                "active, created_at) VALUES (1, 'p', 1, x'00', x'00', x'00', '2013-01-01', 'female', 1, "
                "'2026-01-01')"))
            conn.execute(text("INSERT INTO users (id, uuid, username, password_hash, active, created_at) "
                              "VALUES (1, 'u', 'u', '!', 1, '2026-01-01')"))
            conn.execute(text("INSERT INTO screening_campaigns (id, uuid, school_id, title, instrument_refs, opens_at, "
                              "closes_at, mode, created_by_id, created_at) VALUES (1, 'c', 1, 't', '[]', "
                              "'2026-01-01', '2026-02-01', 'online', 1, '2026-01-01')"))
            conn.execute(text("INSERT INTO screening_sessions (id, uuid, campaign_id, pupil_id, school_id, "
                              "instrument_ref, code_hash, code_expires_at, status, created_at, stopped_at, "
                              "stop_reason) VALUES (1, 's', 1, 1, 1, 'asq@1.1', x'00', '2026-02-01', 'stopped', "
                              "'2026-01-01', '2026-01-02', 'consent_withdrawn')"))
        downgrade(directory=MIGRATIONS, revision="0010_instruments_1_1")
        inspector = inspect(db.engine)
        assert "screening_code_batches" not in inspector.get_table_names()
        assert "stopped_at" not in {c["name"] for c in inspector.get_columns("screening_sessions")}
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT status FROM screening_sessions")).scalar_one() == "expired"
        upgrade(directory=MIGRATIONS)
        assert "screening_code_batches" in inspect(db.engine).get_table_names()
