"""``flask kundelik sync --school ID`` or ``--all``: sync schools' rosters from the Kundelik API, with progress."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import select

from app.core.models import School
from app.extensions import db
from app.kundelik import sync, sync_labels
from app.kundelik.runs import RunStatus


def register(group: AppGroup) -> None:
    """Add the ``sync`` command to ``flask kundelik``."""
    group.add_command(sync_command)


@click.command("sync")
@click.option("--school", "school_id", type=int, default=None, help="Senim id of the school (with a Kundelik ID).")
@click.option("--all", "every_school", is_flag=True,
              help="Every school with a Kundelik ID, one after the other (for cron).")
@click.option("--as", "username", default=None,
              help="Whose kept Kundelik sign-in reads the roster (default: the school administrator's or an "
                   "admin's most recent one).")
@click.option("--lang", type=click.Choice(["kk", "ru", "en"]), default="en", show_default=True,
              help="Language of the report.")
def sync_command(school_id: int | None, every_school: bool, username: str | None, lang: str) -> None:
    """Sync the school's classes, pupils, parents and class teachers from Kundelik (all or nothing per school).

    Exit status 0 when every sync was written (or changed nothing), 1 when any failed or could not start because
    a sync of that school was running (nothing of that school changed)."""
    if (school_id is None) == (not every_school):
        raise click.UsageError("give either --school ID or --all")
    if every_school:
        schools = list(db.session.execute(select(School).where(School.kundelik_id.is_not(None),
                                                               School.kundelik_id != "").order_by(School.id))
                       .scalars())
    else:
        found = db.session.get(School, school_id)
        if found is None:
            raise click.UsageError(f"no school with id {school_id}")
        schools = [found]
    with force_locale(lang):
        failed = [school for school in schools if not _sync_one(school, username, heading=every_school)]
        if every_school:
            click.echo(f"Schools synced: {len(schools) - len(failed)}; failed: {len(failed)}"
                       + (" (" + ", ".join(str(s.id) for s in failed) + ")" if failed else "") + ".")
    if failed:
        sys.exit(1)


def _sync_one(school: School, username: str | None, *, heading: bool) -> bool:
    """Sync one school in its own transaction and print its report; False when it failed or did not start."""
    school_id, name = school.id, school.name
    if heading:
        click.echo(f"== School {school_id}: {name}")
    owner = sync.token_owner(school=school, username=username)
    try:
        run = sync.start_run(actor=None, school=school, via="cli")
    except sync.AlreadyRunning as running:
        click.echo(sync_labels.already_running(running.run), err=True)
        return False
    shown: list[str] = []

    def echo(step: str, done: int, total: int) -> None:
        if not shown or shown[-1] != step:
            shown.append(step)
            click.echo(f"{sync_labels.STEPS[step]}…", err=True)
        if total and (done == total or done % 25 == 0):
            click.echo(f"  {done}/{total}", err=True)

    run = sync.run_sync(run=run, actor=None, owner=owner, echo=echo)
    report = run.report
    if run.status != RunStatus.SUCCEEDED:
        click.echo(str(sync_labels.REASONS.get(run.error or "error", run.error)), err=True)
        for item in report.get("problems", []):
            click.echo(f"  {item.get('class', '')} {item.get('person', '')}: {_problem(item)}", err=True)
        if heading:
            click.echo(f"failed: {run.error}")
        return False
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
    return True


def _problem(item: dict[str, object]) -> str:
    from app.roster import problems

    return problems.message(problems.Problem.from_dict(item))
