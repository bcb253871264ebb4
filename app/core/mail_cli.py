"""``flask mail``: send what the outbox holds (cron, every minute), see its state, retry or drop given-up mail."""

from __future__ import annotations

from datetime import datetime

import click
from flask.cli import with_appcontext

from app.core import mail


@click.group("mail")
def mail_cli() -> None:
    """The e-mail outbox."""


def _when(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value is not None else "never"


def _show_failures() -> None:
    """One line per unsent message whose last attempt failed: ids, times and error types only."""
    limit = mail.max_attempts()
    for message in mail.unsent_failures():
        status = "given up" if message.attempts >= limit else f"next try {_when(message.next_attempt_at)}"
        click.echo(f"  mail {message.id}: queued {_when(message.created_at)}, {message.attempts} attempt(s), "
                   f"{status}: {message.last_error}")


@mail_cli.command("send")
@with_appcontext
def send_command() -> None:
    """Send due mail, retry failed mail after its backoff; exit 1 while any message is failing or given up."""
    if not mail.configured():
        outbox = mail.state()
        unsent = outbox.waiting + outbox.failing + outbox.given_up
        click.echo(f"SENIM_SMTP_HOST is not set: nothing sent, {unsent} message(s) unsent")
        raise SystemExit(1 if unsent else 0)
    done = mail.deliver_due()
    purged = mail.purge_sent()
    click.echo(f"sent {done.sent}, failed {done.failed} (retried later), gave up on {len(done.gave_up)}"
               + (", SMTP server unreachable: stopped" if done.stopped else "")
               + (f", deleted {purged} sent more than {mail.KEEP_SENT.days} days ago" if purged else ""))
    outbox = mail.state()
    if outbox.failing or outbox.given_up:
        click.echo(f"{outbox.failing} message(s) failing, {outbox.given_up} given up (see `flask mail status`):")
        _show_failures()
        raise SystemExit(1)


@mail_cli.command("status")
@with_appcontext
def status_command() -> None:
    """Counts of sent, waiting, failing and given-up mail, and the failures."""
    outbox = mail.state()
    click.echo(f"SMTP host: {'configured' if mail.configured() else 'not set (nothing is queued or sent)'}")
    click.echo(f"sent {outbox.sent} (last {_when(outbox.last_sent)}), waiting {outbox.waiting}, "
               f"failing {outbox.failing}, given up {outbox.given_up} (after {mail.max_attempts()} attempts)")
    if outbox.oldest_unsent is not None:
        click.echo(f"oldest unsent: queued {_when(outbox.oldest_unsent)}")
    _show_failures()


@mail_cli.command("retry")
@with_appcontext
def retry_command() -> None:
    """Queue the given-up messages again, with fresh attempts (`flask mail send` then sends them)."""
    click.echo(f"queued {mail.retry_given_up()} given-up message(s) again")


@mail_cli.command("discard")
@with_appcontext
def discard_command() -> None:
    """Delete the given-up messages (e.g. alert mail that is out of date by now)."""
    click.echo(f"deleted {mail.discard_given_up()} given-up message(s)")
