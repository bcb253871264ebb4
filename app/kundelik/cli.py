"""``flask kundelik link``: an administrator confirms which Kundelik person an account belongs to."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from app.auth.services import find_user
from app.kundelik import services

kundelik_cli = AppGroup("kundelik", help="Sign in with Kundelik: link accounts to Kundelik persons.")


@kundelik_cli.command("link")
@click.argument("username")
@click.argument("person_id")
def link(username: str, person_id: str) -> None:
    """Link the account USERNAME to the Kundelik person PERSON_ID (its next Kundelik sign-in lands there).

    The person id is the number Senim shows to a person whose Kundelik account is not linked yet, or the
    person's id from the school's Kundelik roster. Audited."""
    user = find_user(username)
    if user is None:
        click.echo(f"No account {username!r}.", err=True)
        sys.exit(1)
    if not person_id.strip().isdigit():
        click.echo("A Kundelik person id is a number.", err=True)
        sys.exit(1)
    try:
        services.link_person(actor=None, user=user, person_id=person_id)
    except services.PersonTaken:
        click.echo("Another account is already linked to this Kundelik person.", err=True)
        sys.exit(1)
    click.echo(f"{user.username} is linked to Kundelik person {person_id.strip()}.")


@kundelik_cli.command("unlink")
@click.argument("username")
def unlink(username: str) -> None:
    """Remove the Kundelik link of the account USERNAME (it signs in with its password only). Audited."""
    user = find_user(username)
    if user is None:
        click.echo(f"No account {username!r}.", err=True)
        sys.exit(1)
    services.link_person(actor=None, user=user, person_id=None)
    click.echo(f"{user.username} is no longer linked to Kundelik.")
