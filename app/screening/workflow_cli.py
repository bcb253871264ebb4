"""``flask screening escalate``: escalate overdue alerts (run from cron every few minutes)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("screening")
def screening_cli() -> None:
    """Screening workflow tasks."""


@screening_cli.command("escalate")
@with_appcontext
def escalate_command() -> None:
    """Mark overdue unacknowledged alerts as escalated and e-mail the schools' psychologists."""
    from app.screening.alerts import escalate_overdue

    count = escalate_overdue()
    click.echo(f"escalated {count} alert(s)")
