"""Escalation of overdue alerts, its e-mail through the outbox and a local fake SMTP server, and models = migrations."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from app.core import mail
from app.core.mail import OutboxMessage
from app.core.models import utcnow
from app.extensions import db
from app.screening import services
from app.screening.alerts import escalate_overdue
from app.screening.models import Alert
from tests.core.fake_smtp import FakeSMTP
from tests.factories import login
from tests.screening.workflow_support import ACUTE_ASQ, campaign, session_with_code

MY_TABLES = {"consents", "screening_campaigns", "campaign_classes", "screening_sessions", "screening_results",
             "screening_alerts", "local_instruments", "screening_code_batches"}


def test_overdue_alert_escalates_emails_and_shows_to_director(client, world, app_ctx):
    world.psy1.email = "psy1@school.example"
    db.session.commit()
    camp = campaign(world.psy1, world.s1, [world.c7a])
    services.submit_result(actor=None, session=session_with_code(camp, world.p1, language="ru"), answers=ACUTE_ASQ)
    with FakeSMTP().running(app_ctx) as relay:
        assert escalate_overdue(utcnow() + timedelta(minutes=1)) == 0  # an acute alert gets its minutes
        assert escalate_overdue(utcnow() + timedelta(minutes=21)) == 1
        assert escalate_overdue(utcnow() + timedelta(minutes=22)) == 0  # once only
        (queued,) = db.session.execute(select(OutboxMessage)).scalars()  # in the escalation's transaction
        assert queued.language == "kk" and "/screening/alerts" in queued.body and queued.sent_at is None
        assert mail.deliver_due().sent == 1
    assert len(relay.messages) == 1 and "psy1@school.example" in relay.messages[0]
    assert world.p1.first_name not in relay.messages[0]
    assert db.session.execute(select(Alert)).scalar_one().escalated_at is not None
    login(client, world.a1)
    page = client.get("/screening/escalations").get_data(as_text=True)
    assert "Аса шұғыл" in page and world.p1.first_name not in page  # the severity in the page's language


def test_the_escalate_command_sends_the_mail_it_queued(app_ctx, world, monkeypatch):
    monkeypatch.setitem(app_ctx.config, "SENIM_MAIL_DELIVERY", "background")
    world.psy1.email = "psy1@school.example"
    db.session.commit()
    camp = campaign(world.psy1, world.s1, [world.c7a])
    services.submit_result(actor=None, session=session_with_code(camp, world.p1, language="ru"), answers=ACUTE_ASQ)
    db.session.execute(update(Alert).values(due_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    with FakeSMTP().running(app_ctx) as relay:
        result = app_ctx.test_cli_runner().invoke(args=["screening", "escalate"])
    assert result.exit_code == 0, result.output
    assert "escalated 1 alert(s)" in result.output and "mail: sent 1, failed 0" in result.output
    assert len(relay.messages) == 1 and "psy1@school.example" in relay.messages[0]


def test_cli_escalate(app_ctx, world):
    result = app_ctx.test_cli_runner().invoke(args=["screening", "escalate"])
    assert result.exit_code == 0 and "escalated 0" in result.output


def test_models_and_migrations_agree(app_ctx):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), db.metadata)

    def table_of(entry):
        entry = entry[0] if isinstance(entry, list) else entry
        for part in entry[1:]:
            name = getattr(part, "name", None) if not isinstance(part, str) else part
            table = getattr(part, "table", None)
            if table is not None:
                return table.name
            if name in MY_TABLES:
                return name
        return None

    assert [d for d in diff if table_of(d) in MY_TABLES] == []


def test_new_endpoints_are_guarded(app_ctx):
    from app.auth.permissions import PUBLIC_ENDPOINTS, endpoint_permission

    for endpoint, view in app_ctx.view_functions.items():
        if endpoint.startswith(("screening.", "consent.")):
            assert endpoint in PUBLIC_ENDPOINTS or endpoint_permission(view) is not None, endpoint
