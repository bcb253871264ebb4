"""Escalation of overdue alerts, e-mail through a local fake SMTP server, and models = migrations."""

from __future__ import annotations

import socketserver
import threading
from datetime import timedelta

from sqlalchemy import select

from app.core.models import utcnow
from app.extensions import db
from app.screening import services
from app.screening.alerts import escalate_overdue
from app.screening.models import Alert
from tests.factories import login
from tests.screening.workflow_support import ACUTE_ASQ, campaign, session_with_code

MY_TABLES = {"consents", "screening_campaigns", "campaign_classes", "screening_sessions", "screening_results",
             "screening_alerts", "local_instruments"}


class _FakeSMTP(socketserver.StreamRequestHandler):
    """Just enough SMTP to accept one message and keep its text."""

    def handle(self) -> None:
        self.wfile.write(b"220 fake\r\n")
        data_mode, lines = False, []
        for raw in self.rfile:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if data_mode:
                if line == ".":
                    data_mode = False
                    self.server.messages.append("\n".join(lines))  # type: ignore[attr-defined]
                    self.wfile.write(b"250 ok\r\n")
                else:
                    lines.append(line)
                continue
            verb = line[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.wfile.write(b"250 fake\r\n")
            elif verb == "DATA":
                data_mode = True
                self.wfile.write(b"354 go\r\n")
            elif verb == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


def test_overdue_alert_escalates_emails_and_shows_to_director(client, world, app_ctx):
    world.psy1.email = "psy1@school.example"
    db.session.commit()
    camp = campaign(world.psy1, world.s1, [world.c7a])
    services.submit_result(actor=None, session=session_with_code(camp, world.p1, language="ru"), answers=ACUTE_ASQ)
    server = socketserver.TCPServer(("127.0.0.1", 0), _FakeSMTP)
    server.messages = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app_ctx.config.update(SENIM_SMTP_HOST="127.0.0.1", SENIM_SMTP_PORT=server.server_address[1])
    try:
        assert escalate_overdue(utcnow() + timedelta(minutes=1)) == 1
        assert escalate_overdue(utcnow() + timedelta(minutes=2)) == 0  # once only
    finally:
        app_ctx.config.update(SENIM_SMTP_HOST="", SENIM_SMTP_PORT=25)
        server.shutdown()
        server.server_close()
    assert len(server.messages) == 1 and "psy1@school.example" in server.messages[0]
    assert world.p1.first_name not in server.messages[0]
    assert db.session.execute(select(Alert)).scalar_one().escalated_at is not None
    login(client, world.a1)
    page = client.get("/screening/escalations").get_data(as_text=True)
    assert "acute" in page and world.p1.first_name not in page


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
