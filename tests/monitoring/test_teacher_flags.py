"""Class teachers: a pupil with an open case shows the one neutral flag "talk to the psychologist" with a date,
never the risk, the status, a registry or a note; a closed case shows nothing."""

from __future__ import annotations

from app.monitoring import services
from app.monitoring.models import CaseStatus, RiskLevel
from tests.factories import login
from tests.monitoring.support import NOTE_MARKER, open_case, register

FORBIDDEN = [NOTE_MARKER, "risk", "Risk", "acute", "Acute", "registry", "Registry", "police", "case", "Case",
             "monitoring"]


def _flags(client, world) -> str:
    return client.get(f"/class/{world.c7a.id}/flags").get_data(as_text=True)


def test_an_open_case_shows_the_neutral_flag_only(client, world):
    case = open_case(world, risk=RiskLevel.ACUTE)
    register(world, kind="police")
    login(client, world.t7a)
    page = _flags(client, world)
    assert "flag--amber" in page and "Talk to the school psychologist" in page
    assert case.opened_at.strftime("%Y") in page
    for word in FORBIDDEN:
        assert word not in page, word


def test_a_closed_case_leaves_no_flag(client, world):
    case = open_case(world)
    for status in (CaseStatus.ACTIVE, CaseStatus.REVIEW, CaseStatus.CLOSED):
        services.change_status(actor=world.psy1, case=case, version=case.version, status=status, reason="r")
    login(client, world.t7a)
    page = _flags(client, world)
    assert "flag--amber" not in page and "flag--grey" in page


def test_a_registration_alone_raises_no_flag(client, world):
    register(world)
    login(client, world.t7a)
    assert "flag--amber" not in _flags(client, world)
