"""The roster sync's pages (the school's page with its runs, a finished report, a failed run's problems, a run that
fell silent: interrupted) pass axe and fit a 390 px phone in kk, ru and en. The runs are stored directly: the live
server talks to no Kundelik."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.auth.roles import Role
from app.core.models import Pupil, utcnow
from app.extensions import db
from app.kundelik.runs import KundelikSyncRun
from tests.browser.checks import DESKTOP, FULL_LANGUAGE, PHONE, check_page
from tests.browser.pages import LANGUAGES, LiveServer, _demo_school, requires_chromium

pytestmark = [pytest.mark.browser, requires_chromium]


def _runs(live: LiveServer) -> tuple[str, str, str]:
    """A finished run that moved one pupil and marked one as left, a run Kundelik's rows stopped, and a running
    run silent for 20 minutes (its worker stopped)."""
    with live.app.app_context():
        school = _demo_school()
        first, second = db.session.execute(select(Pupil.id).where(Pupil.school_id == school.id)
                                           .order_by(Pupil.id).limit(2)).scalars()
        counts = {"pupils_new": 3, "pupils_moved": 1, "pupils_left": 1, "pupils_unchanged": 55, "pupils_may_match": 1}
        done = KundelikSyncRun(school_id=school.id, via="cli", status="succeeded", step="done", finished_at=utcnow(),
                               report_json=json.dumps({
                                   "counts": counts, "changes": 5, "school_year": 2026,
                                   "moved": [{"pupil": first, "from": "8Б", "to": "9Ә"}],
                                   "left": [{"pupil": second, "class": "10А"}],
                                   "may_match": [{"class": "7А", "person": "3000000000077"}],
                                   "warnings": [{"code": "own_account", "class": "8Б"}]}))
        failed = KundelikSyncRun(school_id=school.id, via="cli", status="failed", step="saving", error="roster_errors",
                                 finished_at=utcnow(), report_json=json.dumps({"problems": [
                                     {"code": "required", "sheet": "pupils", "row": 2, "column": "birth_date",
                                      "params": {}, "class": "7А", "person": "3000000000078"}]}))
        # One running run per school (the live server's database outlives a language): the earlier one, if any.
        silent = db.session.execute(select(KundelikSyncRun).where(
            KundelikSyncRun.school_id == school.id, KundelikSyncRun.status == "running")).scalar_one_or_none()
        silent = silent or KundelikSyncRun(school_id=school.id, via="web", status="running", step="pupils", done=12,
                                           total=60, heartbeat_at=utcnow() - timedelta(minutes=20))
        db.session.add_all([done, failed, silent])
        db.session.commit()
        return done.uuid, failed.uuid, silent.uuid


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_sync_pages(open_context: Callable[..., Any], live_server: LiveServer,
                        account_state: Callable[..., dict[str, Any]], artifacts: Path, language: str) -> None:
    done, failed, silent = _runs(live_server)
    state = account_state(Role.DIRECTOR, language)
    devices = [(open_context(storage_state=state, **PHONE).new_page(), "phone")]
    if language == FULL_LANGUAGE:
        devices.append((open_context(storage_state=state, **DESKTOP).new_page(), "desktop"))
    problems: list[str] = []
    for name, path in (("kundelik-sync", "/kundelik/sync/"), ("kundelik-sync-report", f"/kundelik/sync/runs/{done}"),
                       ("kundelik-sync-failed", f"/kundelik/sync/runs/{failed}"),
                       ("kundelik-sync-interrupted", f"/kundelik/sync/runs/{silent}")):
        for page, device in devices:
            response = page.goto(path)
            assert response.status == 200, f"{path}: {response.status}"
            problems += check_page(page, artifacts, name, language, axe=device == "phone", device=device)
    assert not problems, "axe:\n" + "\n".join(problems)


def test_a_live_run_refreshes_until_the_reader_stops_it(open_context: Callable[..., Any], live_server: LiveServer,
                                                       account_state: Callable[..., dict[str, Any]],
                                                       artifacts: Path) -> None:
    """A run that is alive refreshes its page (app.js), passes axe (no <meta> refresh, which axe rates critical:
    it cannot be stopped) and stops refreshing when the reader presses "Stop refreshing"."""
    _done, _failed, silent = _runs(live_server)
    with live_server.app.app_context():
        run = db.session.execute(select(KundelikSyncRun).where(KundelikSyncRun.uuid == silent)).scalar_one()
        run.heartbeat_at = utcnow() + timedelta(minutes=30)  # alive for the whole test
        db.session.commit()
    try:
        page = open_context(storage_state=account_state(Role.DIRECTOR, "en"), **PHONE).new_page()
        page.goto(f"/kundelik/sync/runs/{silent}")
        assert not check_page(page, artifacts, "kundelik-sync-running", "en")
        with page.expect_event("load", timeout=10_000):  # it reloads by itself
            pass
        page.get_by_role("button", name="Stop refreshing").click()
        loads: list[object] = []
        page.on("load", lambda loaded: loads.append(loaded))
        page.wait_for_timeout(4_500)
        assert loads == [], "the page reloaded after Stop refreshing"
        assert page.get_by_role("link", name="Refresh now").is_visible()
    finally:
        with live_server.app.app_context():
            run = db.session.execute(select(KundelikSyncRun).where(KundelikSyncRun.uuid == silent)).scalar_one()
            run.heartbeat_at = utcnow() - timedelta(minutes=20)
            db.session.commit()
