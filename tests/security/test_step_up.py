"""B22: step-up re-authentication before exports and result downloads."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from app.auth.models import LoginFailure, User, UserSession
from app.auth.stepup import REAUTH_MAX_AGE, reauth_due, step_up_age
from app.core.audit import AuditAction, AuditEntry, Outcome
from app.core.models import utcnow
from app.extensions import db
from app.screening.services import instrument_for, submit_result
from tests.factories import PASSWORD, csrf_token, totp_now
from tests.screening.workflow_support import ACUTE_ASQ, ASQ
from tests.security.helpers import audit_count, location_path, signed_in

#: Routes that hand data out of Senim: each must ask for the password again when the sign-in is old.
STEP_UP_ENDPOINTS = {"reports.export_csv", "screening.result_fhir", "roster.export_xlsx", "roster.export_csv",
                     "monitoring.attachment_download"}
_DOWNLOAD = re.compile(r"\.(csv|json|xlsx|pdf|zip)$")
#: Downloads reviewed as holding no pupil data, so no step-up: add one here only after reading it.
NO_DATA_DOWNLOADS = {
    "static",
    # An example instrument package to start a local method from (app/screening/local_template/).
    "screening.local_template",
    # A shipped instrument as a FHIR Questionnaire: public instrument text, no pupil data.
    "screening.instrument_questionnaire",
    # The empty roster template (headers and help text, app/roster/workbook.py).
    "roster.template_xlsx", "roster.template_csv",
}


def _age_sign_in(user: User, minutes: float = 6) -> None:
    """Make the user's sessions look as if the password was last entered ``minutes`` ago."""
    db.session.execute(update(UserSession).where(UserSession.user_id == user.id)
                       .values(reauth_at=utcnow() - timedelta(minutes=minutes)))
    db.session.commit()


def _next_code(user: User) -> str:
    """A code of the next time step: the one used at sign-in cannot be replayed."""
    return pyotp.TOTP(user.totp_secret).at(int(time.time()) + 30)


def _reauth(client: FlaskClient, location: str, password: str = PASSWORD, code: str | None = None):
    data = {"password": password, "csrf_token": csrf_token(client, location)}
    next_value = parse_qs(urlsplit(location).query).get("next", [""])[0]
    data["next"] = next_value
    if code is not None:
        data["code"] = code
    return client.post("/reauth", data=data)


def _fhir_path(world) -> str:
    result = submit_result(actor=world.psy1, session=None, answers=ACUTE_ASQ, pupil=world.p1,
                           instrument=instrument_for(ASQ), language="kk")
    return f"/screening/pupils/{world.p1.uuid}/results/{result.uuid}.fhir.json"


def test_every_download_route_asks_for_recent_authentication(app: Flask) -> None:
    stepped = {endpoint for endpoint, view in app.view_functions.items() if step_up_age(view) is not None}
    assert stepped >= STEP_UP_ENDPOINTS
    for rule in app.url_map.iter_rules():
        if _DOWNLOAD.search(rule.rule) and rule.endpoint not in NO_DATA_DOWNLOADS:
            assert rule.endpoint in stepped, f"{rule.endpoint} ({rule.rule}) hands out a file without step-up"
    assert all(step_up_age(app.view_functions[e]) == REAUTH_MAX_AGE for e in STEP_UP_ENDPOINTS)


def test_a_fresh_sign_in_needs_no_second_prompt(app: Flask, world) -> None:
    client = signed_in(app, world.d1)
    _age_sign_in(world.d1, minutes=4)
    assert client.get("/reports/export.csv").status_code == 200


def test_stale_sign_in_must_re_enter_the_password_before_the_export(app: Flask, world) -> None:
    client = signed_in(app, world.d1)
    _age_sign_in(world.d1)
    response = client.get("/reports/export.csv")
    assert response.status_code == 302 and location_path(response) == "/reauth"
    location = response.headers["Location"]
    assert parse_qs(urlsplit(location).query)["next"] == ["/reports/export.csv"]
    assert audit_count(action=AuditAction.REPORT_READ) == 0, "nothing is exported before the step-up"
    form = client.get(location).get_data(as_text=True)
    assert 'name="password"' in form and 'name="code"' not in form, "no second factor for this role"

    refused = _reauth(client, location, password="not the password at all")
    assert refused.status_code == 200
    assert audit_count(action=AuditAction.REAUTH, outcome=Outcome.DENIED) == 1
    assert db.session.execute(select(func.count()).select_from(LoginFailure)).scalar_one() == 1
    assert client.get("/reports/export.csv").status_code == 302, "a failed attempt grants nothing"

    accepted = _reauth(client, location)
    assert accepted.status_code == 302 and accepted.headers["Location"].endswith("/reports/export.csv")
    entry = db.session.execute(select(AuditEntry).where(
        AuditEntry.action == AuditAction.REAUTH, AuditEntry.outcome == Outcome.SUCCESS)).scalar_one()
    assert entry.actor_id == world.d1.id and entry.request_id and entry.ip
    download = client.get("/reports/export.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    exported = db.session.execute(select(AuditEntry).where(AuditEntry.action == AuditAction.REPORT_READ)).scalars()
    assert ['"csv"' in e.details for e in exported] == [True]


def test_psychologist_needs_password_and_code_before_the_fhir_download(app: Flask, world) -> None:
    path = _fhir_path(world)
    client = signed_in(app, world.psy1)
    _age_sign_in(world.psy1)
    response = client.get(path)
    assert response.status_code == 302 and location_path(response) == "/reauth"
    location = response.headers["Location"]
    assert 'name="code"' in client.get(location).get_data(as_text=True)
    assert _reauth(client, location).status_code == 200, "the password alone is not enough"
    replayed = _reauth(client, location, code=totp_now(world.psy1))
    assert replayed.status_code == 200, "the code used at sign-in cannot be used again"
    assert client.get(path).status_code == 302
    accepted = _reauth(client, location, code=_next_code(world.psy1))
    assert accepted.status_code == 302 and urlsplit(accepted.headers["Location"]).path == path
    download = client.get(path)
    assert download.status_code == 200 and download.mimetype == "application/fhir+json"
    assert audit_count(action=AuditAction.SCREENING_RESULT_EXPORT) == 1
    assert audit_count(action=AuditAction.REAUTH, outcome=Outcome.SUCCESS) == 1
    assert audit_count(action=AuditAction.REAUTH, outcome=Outcome.DENIED) == 1  # the replay (no code: form error)


def test_reauth_never_leaves_the_site(app: Flask, world) -> None:
    client = signed_in(app, world.d1)
    for target in ("https://evil.example/x", "//evil.example", "/\\evil.example"):
        location = f"/reauth?next={target}"
        response = _reauth(client, location)
        assert response.status_code == 302 and urlsplit(response.headers["Location"]).netloc in ("", "localhost")
        assert location_path(response) == "/"


def test_wrong_passwords_at_the_prompt_lock_the_account(app: Flask, world) -> None:
    client = signed_in(app, world.d1)
    _age_sign_in(world.d1)
    threshold = app.config["SENIM_LOCKOUT_THRESHOLD"]
    for _ in range(threshold):
        assert _reauth(client, "/reauth?next=/reports/", password="wrong guess here").status_code == 200
    assert audit_count(action=AuditAction.LOCKOUT) == 1
    response = _reauth(client, "/reauth?next=/reports/export.csv")
    assert response.status_code == 200, "even the right password is refused while locked"
    assert client.get("/reports/export.csv").status_code == 302


def test_reauth_due_counts_from_the_last_password_entry(app_ctx, world) -> None:
    record = UserSession(token_hash="x" * 64, user_id=world.d1.id, expires_at=utcnow() + timedelta(hours=1))
    assert reauth_due(None) and reauth_due(record)
    now = utcnow()
    record.reauth_at = now - REAUTH_MAX_AGE
    assert not reauth_due(record, now=now)
    assert reauth_due(record, now=now + timedelta(seconds=1))
