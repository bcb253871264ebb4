"""Cron tasks: ``flask screening escalate`` (overdue alerts), ``flask screening close-expired`` (abandoned
sessions; sittings whose consent ended) and ``flask screening purge-code-cards`` (codes of unprinted cards kept too
long), run every few minutes. Mail they queue is sent before they return; what fails is retried by
``flask mail send``."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


def _send_queued_mail() -> None:
    """Send what this run queued (no request waits here); failures stay queued for ``flask mail send``."""
    from app.core import mail

    if not mail.automatic():
        return
    done = mail.deliver_due()
    if done.sent or done.failed or done.gave_up:
        click.echo(f"mail: sent {done.sent}, failed {done.failed + len(done.gave_up)} (see `flask mail status`)")


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
    _send_queued_mail()


@screening_cli.command("close-expired")
@with_appcontext
def close_expired_command() -> None:
    """Submit what abandoned sessions answered (so submit-time alert rules fire); expire empty ones."""
    from app.screening.expiry import close_expired

    closed = close_expired()
    click.echo(f"closed {closed.total} session(s): {closed.submitted} submitted, {closed.expired} expired, "
               f"{closed.stopped} stopped (consent ended)")
    _send_queued_mail()


@screening_cli.command("purge-code-cards")
@with_appcontext
def purge_code_cards_command() -> None:
    """Delete the codes of printable code cards kept past SENIM_CODE_CARDS_KEPT and not marked printed."""
    from app.screening.cards import purge_expired

    click.echo(f"deleted the codes of {purge_expired()} unprinted card batch(es)")
