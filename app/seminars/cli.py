"""``flask seminars remind``: e-mail registrants before their seminar (cron, e.g. every 15 minutes). Each
registrant is reminded once; the mail this run queues is sent before it returns, failures are retried by
``flask mail send``."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("seminars")
def seminars_cli() -> None:
    """Seminar tasks."""


@seminars_cli.command("remind")
@with_appcontext
def remind_command() -> None:
    """Queue a reminder for each registrant of a seminar starting within SENIM_SEMINAR_REMIND_BEFORE_HOURS."""
    from app.core import mail
    from app.seminars.services import send_reminders

    if not mail.configured():
        click.echo("SENIM_SMTP_HOST is not set: no reminders queued")
        return
    click.echo(f"queued {send_reminders()} reminder(s)")
    if mail.automatic():
        done = mail.deliver_due()
        if done.sent or done.failed or done.gave_up:
            click.echo(f"mail: sent {done.sent}, failed {done.failed + len(done.gave_up)} (see `flask mail status`)")
