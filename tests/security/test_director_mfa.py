"""School administrators read pupil data (roster import, case teams), so they sign in with a second factor."""

from __future__ import annotations

from app.auth.permissions import reads_pupil_data
from app.auth.roles import MFA_ROLES, Role
from app.core.demo import DEMO_TOTP
from tests.factories import login, make_school, make_user


def test_every_role_that_reads_pupil_data_needs_a_second_factor() -> None:
    assert {role for role in Role if reads_pupil_data(role)} <= MFA_ROLES
    assert Role.DIRECTOR in MFA_ROLES


def test_demo_director_has_a_totp_secret() -> None:
    assert "director" in DEMO_TOTP


def test_director_without_code_is_sent_to_the_second_factor(client) -> None:  # type: ignore[no-untyped-def]
    director = make_user(Role.DIRECTOR, school=make_school())
    response = login(client, director, second_factor=False)
    assert response.status_code == 302
    page = client.get("/monitoring/cases")
    assert page.status_code == 302 and "/mfa" in page.headers["Location"]
