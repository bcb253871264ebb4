"""``flask kundelik sync --school ID``: sync a school's roster from the Kundelik API, with progress."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from flask_babel import force_locale

from app.core.models import School
from app.extensions import db
from app.kundelik import sync, sync_labels
from app.kundelik.runs import RunStatus


def register(group: AppGroup) -> None:
    """Add the ``sync`` command to ``flask kundelik``."""
    group.add_command(sync_command)


@click.command("sync")
@click.option("--school", "school_id", type=int, required=True, help="Senim id of the school (with a Kundelik ID).")
@click.option("--as", "username", default=None,
              help="Whose kept Kundelik sign-in reads the roster (default: the school administrator's or an "
                   "admin's most recent one).")
@click.option("--lang", type=click.Choice(["kk", "ru", "en"]), default="en", show_default=True,
              help="Language of the report.")
def sync_command(school_id: int, username: str | None, lang: str) -> None:
    """Sync the school's classes, pupils, parents and class teachers from Kundelik (all or nothing).

    Exit status 0 when the sync was written (or changed nothing), 1 when it failed (nothing changed)."""
    school = db.session.get(School, school_id)
    if school is None:
        raise click.UsageError(f"no school with id {school_id}")
    owner = sync.token_owner(school=school, username=username)
    try:
        run = sync.start_run(actor=None, school=school, via="cli")
    except sync.AlreadyRunning:
        click.echo("A sync of this school is running already.", err=True)
        sys.exit(1)
    shown: list[str] = []

    def echo(step: str, done: int, total: int) -> None:
        if not shown or shown[-1] != step:
            shown.append(step)
            click.echo(f"{sync_labels.STEPS[step]}…", err=True)
        if total and (done == total or done % 25 == 0):
            click.echo(f"  {done}/{total}", err=True)

    with force_locale(lang):
        run = sync.run_sync(run=run, actor=None, owner=owner, echo=echo)
        report = run.report
        if run.status != RunStatus.SUCCEEDED:
            click.echo(str(sync_labels.REASONS.get(run.error or "error", run.error)), err=True)
            for item in report.get("problems", []):
                click.echo(f"  {item.get('class', '')} {item.get('person', '')}: {_problem(item)}", err=True)
            sys.exit(1)
        for key, label in sync_labels.COUNTS.items():
            click.echo(f"{label}: {report['counts'].get(key, 0)}")
        for move in report["moved"]:
            click.echo(f"moved: pupil {move['pupil']}: {move['from'] or '-'} -> {move['to']}")
        for left in report["left"]:
            click.echo(f"left: pupil {left['pupil']} ({left['class']})")
        for item in report["may_match"]:
            click.echo(f"check: Kundelik person {item['person']} ({item['class']})")
        for item in report["warnings"]:
            click.echo(f"warning: {sync_labels.WARNINGS[item['code']]}")
        click.echo("No changes." if report["changes"] == 0 else f"Changes: {report['changes']}.")


def _problem(item: dict[str, object]) -> str:
    from app.roster import problems

    return problems.message(problems.Problem.from_dict(item))
