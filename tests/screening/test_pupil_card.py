"""One place per pupil (issue 8 item 12): the pupil card's links by role, the results page's alert history, and
consent pages that return to where the user came from (a same-site ``next`` only)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.consent.services import today_local
from app.core.models import utcnow
from app.extensions import db
from app.screening import alerts, services
from app.screening.models import Alert
from tests.factories import login, post
from tests.screening.workflow_support import ACUTE_ASQ, campaign, consent

ASQ = "asq@1.1"
URGENT_ASQ = {"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 0}


def _speaks(user, language: str = "en") -> None:
    user.preferred_language = language
    db.session.commit()


def _links(page: str) -> set[str]:
    return set(re.findall(r'href="([^"]+)"', page))


def test_psychologist_card_links_to_results_alerts_consent_and_paper_entry(client, world):
    consent(world.p1)
    services.submit_result(actor=world.psy1, session=None, pupil=world.p1, instrument=services.instrument_for(ASQ),
                           language="ru", answers=ACUTE_ASQ)
    _speaks(world.psy1)
    login(client, world.psy1)
    card = client.get(f"/pupils/{world.p1.uuid}").get_data(as_text=True)
    uuid = world.p1.uuid
    assert {f"/screening/pupils/{uuid}/results", f"/screening/alerts?pupil={uuid}",
            f"/consent/pupils/{uuid}?next=/pupils/{uuid}", f"/screening/paper?pupil={uuid}"} <= _links(card)
    assert "1 open alert" in card


def test_paper_entry_waits_for_consent_on_the_card(client, world):
    _speaks(world.psy1)
    login(client, world.psy1)
    card = client.get(f"/pupils/{world.p2.uuid}").get_data(as_text=True)
    assert f"/screening/paper?pupil={world.p2.uuid}" not in card and "needs a valid parental consent" in card
    assert "No open alerts." in card


@pytest.mark.parametrize(("name", "expected"), [
    ("soc1", {"consent"}),  # a social pedagogue records consent, sees no results or alerts
    ("admin", set()),  # an administrator manages records, not screening
])
def test_card_shows_only_the_links_the_role_may_use(client, world, name, expected):
    user = getattr(world, name)
    _speaks(user)
    login(client, user)
    links = _links(client.get(f"/pupils/{world.p1.uuid}").get_data(as_text=True))
    found = {kind for kind, prefix in (("results", "/screening/pupils/"), ("alerts", "/screening/alerts?"),
                                       ("consent", "/consent/pupils/"), ("paper", "/screening/paper"))
             if any(link.startswith(prefix) for link in links)}
    assert found == expected


def test_the_cards_paper_link_preselects_the_pupil_without_errors(client, world):
    consent(world.p1)
    _speaks(world.psy1)
    login(client, world.psy1)
    page = client.get(f"/screening/paper?pupil={world.p1.uuid}").get_data(as_text=True)
    assert f'value="{world.p1.uuid}" selected' in page or f'selected value="{world.p1.uuid}"' in page
    assert "field__error" not in page and "This field is required" not in page


def test_inbox_filtered_by_pupil(client, world):
    for pupil in (world.p1, world.p2):
        services.submit_result(actor=world.psy1, session=None, pupil=pupil, instrument=services.instrument_for(ASQ),
                               language="ru", answers=ACUTE_ASQ)
    _speaks(world.psy1)
    login(client, world.psy1)
    page = client.get(f"/screening/alerts?pupil={world.p1.uuid}").get_data(as_text=True)
    assert world.p1.short_name in page and world.p2.short_name not in page
    assert client.get(f"/screening/alerts?pupil={world.p3.uuid}").status_code == 404  # another school's pupil


def test_results_show_resolved_alerts_with_their_history(client, world):
    world.psy1.full_name, world.psy2.full_name = "Әсел Бірінші", "Данияр Екінші"
    db.session.commit()
    services.submit_result(actor=world.psy1, session=None, pupil=world.p1, instrument=services.instrument_for(ASQ),
                           language="ru", answers=URGENT_ASQ)
    alert = db.session.execute(select(Alert)).scalar_one()
    # As if question 5 had upgraded it ten minutes later (tests/screening/test_safety_rules.py does it for real).
    raised = utcnow() - timedelta(hours=2)
    later = raised + timedelta(minutes=10)
    alert.details = replace(alert.details, severity="acute", rules=("asq.acute", "asq.non_acute"), raised_at=raised,
                            history=(("urgent", "asq.non_acute", later.isoformat()),))
    db.session.commit()
    assert alerts.escalate_overdue(utcnow() + timedelta(days=2)) == 1
    alert.escalated_at = later + timedelta(minutes=20)  # as the escalation job would have, before anyone acted
    db.session.commit()
    alerts.acknowledge(actor=world.psy2, alert=alert)
    alerts.resolve(actor=world.psy1, alert=alert, note="Talked with her and her mother; referred to the clinic.")
    _speaks(world.psy1)
    login(client, world.psy1)
    page = client.get(f"/screening/pupils/{world.p1.uuid}/results").get_data(as_text=True)
    history = page[page.index('id="alert-history"'):]
    steps = re.findall(r'<li class="timeline__step">(.*?)</li>', history, re.S)
    text = [re.sub(r"<[^>]+>|\s+", " ", step).strip() for step in steps]
    assert [t.split(") ", 1)[1].split()[0] for t in text] == ["Alert", "Made", "Passed", "Acknowledged",
                                                                 "Resolved"], text
    assert "Urgent" in text[0] and "non-acute positive" in text[0]
    assert "Acute" in text[1] and "question 5" in text[1]
    assert "by Данияр Екінші" in text[3]
    assert "by Әсел Бірінші" in text[4] and "referred to the clinic." in text[4]
    assert "(2 hours ago)" in text[0] and "Resolved" in history


def test_results_page_links_back_to_the_card_and_open_alerts_to_the_inbox(client, world):
    services.submit_result(actor=world.psy1, session=None, pupil=world.p1, instrument=services.instrument_for(ASQ),
                           language="ru", answers=ACUTE_ASQ)
    _speaks(world.psy1)
    login(client, world.psy1)
    links = _links(client.get(f"/screening/pupils/{world.p1.uuid}/results").get_data(as_text=True))
    assert {f"/pupils/{world.p1.uuid}", f"/screening/alerts?pupil={world.p1.uuid}"} <= links


def _record_consent(client, pupil, query: str = ""):
    path = f"/consent/pupils/{pupil.uuid}{query}"
    return post(client, path, {"signed_on": today_local().isoformat(), "confirm": "y"})


@pytest.mark.parametrize("came_from", ["card", "campaign"])
def test_saving_consent_returns_to_where_the_user_came_from(client, world, came_from):
    camp = campaign(world.psy1, world.s1, [world.c7a])
    back = f"/pupils/{world.p1.uuid}" if came_from == "card" else f"/screening/campaigns/{camp.uuid}"
    _speaks(world.psy1)
    login(client, world.psy1)
    if came_from == "campaign":  # the campaign page's link carries it
        assert f"/consent/pupils/{world.p1.uuid}?next={back}" in client.get(back).get_data(as_text=True)
    page = client.get(f"/consent/pupils/{world.p1.uuid}?next={back}").get_data(as_text=True)
    assert f'<a href="{back}">Back</a>' in page
    response = _record_consent(client, world.p1, f"?next={back}")
    assert response.status_code == 302 and response.headers["Location"] == back
    withdraw = post(client, f"/consent/pupils/{world.p1.uuid}/withdraw?next={back}",
                    form_page=f"/consent/pupils/{world.p1.uuid}?next={back}")
    assert withdraw.status_code == 302 and withdraw.headers["Location"] == back


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/", "/\\evil.example", "/\t/evil.example", "http:/evil.example",
    "javascript:alert(1)", "evil.example",
])
def test_an_external_next_is_refused(client, world, target):
    _speaks(world.psy1)
    login(client, world.psy1)
    page = client.get(f"/consent/pupils/{world.p1.uuid}", query_string={"next": target}).get_data(as_text=True)
    main = page[page.index("<main"):]  # (the language switch returns to this very page, query and all)
    assert "evil.example" not in main and "javascript:" not in main
    assert f'<a href="/pupils/{world.p1.uuid}">Back</a>' in page  # the pupil card instead
    path = f"/consent/pupils/{world.p1.uuid}"
    response = client.post(path, query_string={"next": target}, data={
        "signed_on": today_local().isoformat(), "confirm": "y",
        "csrf_token": re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)})
    assert response.status_code == 302 and response.headers["Location"] == path
