"""Nobody misses an open alert (issue 8 item 5): counts by severity in the menu and on the home page, the inbox
filtered by severity, an acute alert's minutes before it is overdue, and the director's escalations page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select, update

from app.core.i18n import ago
from app.core.models import utcnow
from app.extensions import db
from app.screening import alerts, services
from app.screening.models import Alert
from tests.factories import login, make_pupil, post, sql_statements
from tests.screening.workflow_support import ACUTE_ASQ, campaign, session_with_code

ASQ = "asq@1.1"
URGENT_ASQ = {"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 0}
INCOMPLETE_ASQ = {"q1": 0, "q2": 0}  # routine: not all of questions 1-4 answered


def _paper(world, pupil, answers, ref=ASQ) -> None:
    services.submit_result(actor=world.psy1, session=None, pupil=pupil, instrument=services.instrument_for(ref),
                           language="ru", answers=answers)


def _speaks(user, language: str) -> None:
    user.preferred_language = language
    db.session.commit()


def test_home_page_and_menu_count_open_alerts_by_severity_with_links(client, world):
    _paper(world, world.p1, ACUTE_ASQ)
    _paper(world, world.p2, URGENT_ASQ)
    _paper(world, make_pupil(world.c7a), URGENT_ASQ)
    _paper(world, world.p3, ACUTE_ASQ)  # another school: not psy1's
    resolved = make_pupil(world.c8b)
    _paper(world, resolved, ACUTE_ASQ)
    alert = db.session.execute(select(Alert).where(Alert.school_id == world.s1.id)  # the resolved pupil's (last)
                              .order_by(Alert.id.desc())).scalars().first()
    alerts.acknowledge(actor=world.psy1, alert=alert)
    alerts.resolve(actor=world.psy1, alert=alert, note="Seen")  # resolved: not counted
    _speaks(world.psy1, "en")
    login(client, world.psy1)
    home = client.get("/").get_data(as_text=True)
    assert '<a class="badge badge--danger" href="/screening/alerts?severity=acute">1 acute alert</a>' in home
    assert '<a class="badge badge--warning" href="/screening/alerts?severity=urgent">2 urgent alerts</a>' in home
    assert "0 routine alerts" in home  # said plainly, not left out
    # Every page's menu: the non-zero counts beside "Alerts", and their total on the phone's Menu button.
    page = client.get("/pupils").get_data(as_text=True)
    assert 'nav-counts__link" href="/screening/alerts?severity=acute">1 acute alert</a>' in page
    assert 'nav-counts__link" href="/screening/alerts?severity=urgent">2 urgent alerts</a>' in page
    assert "routine alert" not in page
    assert 'nav-toggle__count">3<' in page


def test_counts_are_in_the_interface_language(client, world):
    _paper(world, world.p1, ACUTE_ASQ)
    _paper(world, world.p2, ACUTE_ASQ)
    _speaks(world.psy1, "ru")
    login(client, world.psy1)
    assert "2 экстренных сигнала" in client.get("/").get_data(as_text=True)


def test_a_psychologist_counts_only_the_alerts_of_her_school(client, world):
    _paper(world, world.p1, ACUTE_ASQ)
    _speaks(world.psy3, "en")
    login(client, world.psy3)
    home = client.get("/").get_data(as_text=True)
    assert "0 acute alerts" in home and "nav-counts" not in home


@pytest.mark.parametrize("name", ["a1", "t7a", "soc1", "admin"])
def test_roles_without_the_inbox_see_no_counts(client, world, name):
    _paper(world, world.p1, ACUTE_ASQ)
    login(client, getattr(world, name))
    page = client.get("/").get_data(as_text=True)
    # Other counts (overdue follow-ups) may sit in the same lists; no alert count and no link to the inbox may.
    assert "severity=" not in page and "/screening/alerts" not in page


def test_counting_takes_one_query_whatever_the_number_of_alerts(client, world, app_ctx):
    _paper(world, world.p1, ACUTE_ASQ)
    with app_ctx.test_request_context():
        alerts.open_alert_counts_for(actor=world.psy1)  # loads the user's roles once
        with sql_statements() as few:
            assert alerts.open_alert_counts_for(actor=world.psy1) == {"acute": 1, "urgent": 0, "routine": 0}
    login(client, world.psy1)
    client.get("/screening/instruments")
    with sql_statements() as page_few:
        client.get("/screening/instruments")  # a page whose own queries do not depend on the alerts
    for pupil, answers in ((world.p2, URGENT_ASQ), (make_pupil(world.c7a), INCOMPLETE_ASQ),
                           (make_pupil(world.c8b), ACUTE_ASQ)):
        _paper(world, pupil, answers)
    with app_ctx.test_request_context():
        alerts.open_alert_counts_for(actor=world.psy1)
        with sql_statements() as many:
            assert alerts.open_alert_counts_for(actor=world.psy1) == {"acute": 2, "urgent": 1, "routine": 1}
    client.get("/screening/instruments")
    with sql_statements() as page_many:
        client.get("/screening/instruments")
    assert len(few) == len(many) == 1
    assert len(page_few) == len(page_many)


def test_menu_and_home_page_share_one_count_per_request(client, world):
    _paper(world, world.p1, ACUTE_ASQ)
    login(client, world.psy1)
    with sql_statements() as seen:
        client.get("/")
    assert sum("screening_alerts" in s for s in seen) == 1


def test_inbox_filtered_by_severity(client, world):
    _paper(world, world.p1, ACUTE_ASQ)
    _paper(world, world.p2, URGENT_ASQ)
    _speaks(world.psy1, "en")
    login(client, world.psy1)
    urgent = client.get("/screening/alerts?severity=urgent").get_data(as_text=True)
    assert world.p2.short_name in urgent and world.p1.short_name not in urgent
    assert "Showing urgent alerts only." in urgent and 'href="/screening/alerts">Show all open alerts' in urgent
    alert = next(a for a in db.session.execute(select(Alert)).scalars() if a.severity == "urgent")
    acknowledged = post(client, f"/screening/alerts/{alert.uuid}/acknowledge?next=/screening/alerts?severity%3Durgent",
                        form_page="/screening/alerts?severity=urgent")
    assert acknowledged.headers["Location"] == "/screening/alerts?severity=urgent"  # back to the same filter
    assert f"/screening/alerts/{alert.uuid}/resolve?next=/screening/alerts?severity%3Durgent" in client.get(
        "/screening/alerts?severity=urgent").get_data(as_text=True)
    everything = client.get("/screening/alerts?severity=bogus").get_data(as_text=True)
    assert world.p1.short_name in everything and world.p2.short_name in everything


def test_a_fresh_acute_alert_is_not_overdue_until_its_configured_minutes_pass(client, world, app_ctx, monkeypatch):
    monkeypatch.setitem(app_ctx.config, "SENIM_ALERT_DEADLINES",
                        {**app_ctx.config["SENIM_ALERT_DEADLINES"], "acute": timedelta(minutes=30)})
    _paper(world, world.p1, ACUTE_ASQ)
    alert = db.session.execute(select(Alert)).scalar_one()
    assert timedelta(minutes=30) <= alert.due_at - alert.raised_at < timedelta(minutes=35)
    _speaks(world.psy1, "en")
    login(client, world.psy1)
    fresh = client.get("/screening/alerts").get_data(as_text=True)
    assert "Overdue" not in fresh and "(in 3" in fresh  # "in 30 minutes" (or 34, rounded up to five)
    db.session.execute(update(Alert).values(due_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    late = client.get("/screening/alerts").get_data(as_text=True)
    assert "Overdue" in late and "1 minute ago" in late


@pytest.mark.parametrize(("language", "past", "future"), [
    ("en", "26 minutes ago", "in 10 minutes"),
    ("ru", "26 минут назад", "через 10 минут"),
    ("kk", "26 минут бұрын", "10 минуттан кейін"),
])
def test_ago_reads_as_time_past_and_time_to_come(app_ctx, language, past, future):
    now = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
    with app_ctx.test_request_context(), force_locale(language):
        assert ago(now - timedelta(minutes=26), now) == past
        assert ago(now + timedelta(minutes=10), now) == future


def test_escalations_name_class_psychologists_and_severity_in_words(client, world):
    world.psy1.email = "psy1@school.example"
    world.psy1.phone = "+77012345678"
    world.psy1.full_name = "Әсел Психолог"
    world.psy2.full_name, world.psy3.full_name = "Данияр Екінші", "Гүлнар Басқа"
    db.session.commit()
    camp = campaign(world.psy1, world.s1, [world.c7a])
    services.submit_result(actor=None, session=session_with_code(camp, world.p1, language="ru"), answers=ACUTE_ASQ)
    _paper(world, world.p3, ACUTE_ASQ)  # another school: not this director's
    alerts.escalate_overdue(utcnow() + timedelta(days=2))
    _speaks(world.a1, "ru")
    login(client, world.a1)
    page = client.get("/screening/escalations").get_data(as_text=True)
    assert "Экстренный" in page and ">acute<" not in page  # the severity in the page's language
    assert "Класс 7А" in page
    assert ('Әсел Психолог, <a href="tel:+77012345678">+77012345678</a>, '
            '<a href="mailto:psy1@school.example">psy1@school.example</a>') in page  # to call at once
    assert world.psy2.display_name in page and world.psy3.display_name not in page  # the school's psychologists
    assert world.p1.first_name not in page and world.p1.last_name not in page  # never the pupil
    assert page.count('class="card alert-card') == 1
