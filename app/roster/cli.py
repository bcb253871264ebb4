"""``flask roster import FILE… --school ID [--commit]``: the web import's checks and commit, on the command line.

Prints the same row-by-row report as the preview page (in ``--lang``), with a progress bar while the rows are
checked and written. Without ``--commit`` nothing is changed. Exit status: 0 when the file has no errors (and,
with ``--commit``, was imported), 1 when it has errors (nothing changed), 2 on a usage error.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import force_locale

from app.core.models import School
from app.extensions import db
from app.roster import problems as report
from app.roster import services
from app.roster.planning import Plan

roster_cli = AppGroup("roster", help="Bring a school's roster in from CSV or XLSX files.")

#: Counts printed after the report, in this order.
_COUNT_LABELS = (
    ("rows", "rows read"), ("errors", "errors"), ("warnings", "warnings"),
    ("classes_new", "classes new"), ("classes_updated", "classes changed"),
    ("pupils_new", "pupils new"), ("pupils_moved", "pupils moved to another class"),
    ("pupils_updated", "pupils with changed details"), ("pupils_returned", "pupils back at school"),
    ("pupils_unchanged", "pupils unchanged"), ("pupils_missing", "pupils not in the file"),
    ("pupils_left", "pupils marked as left"),
    ("parents_new", "parent accounts new"), ("parents_linked", "parents linked to a child"),
    ("parents_updated", "parent links changed"), ("parents_unchanged", "parent links unchanged"),
)


def _print_report(plan: Plan) -> None:
    for item in plan.problems:
        where = [report.sheet_label(item.sheet)]
        if item.row:
            where.append(f"row {item.row}")
        if item.column:
            where.append(report.column_label(item.sheet, item.column))
        kind = "warning" if item.is_warning else "error"
        click.echo(f"{kind}: {', '.join(w for w in where if w) or 'file'}: {report.message(item)}")
    for change in plan.pupils:
        if change.kind == "moved":
            click.echo(f"moved: pupils row {change.row}: {change.from_class or '-'} -> {change.record.class_label}")
    for left in plan.left:
        click.echo(f"not in the file: {left.class_label} {left.name}")


def _print_counts(counts: dict[str, int]) -> None:
    for key, label in _COUNT_LABELS:
        if key in counts:
            click.echo(f"{label}: {counts[key]}")


@roster_cli.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--school", "school_id", type=int, required=True, help="Id of the school the roster belongs to.")
@click.option("--year", "school_year", type=int, default=None,
              help="First calendar year of the school year of the classes (default: the current school year).")
@click.option("--commit", is_flag=True, help="Write the roster when it has no errors (default: only check).")
@click.option("--mark-left", is_flag=True, help="With --commit: mark the school's pupils missing from the file as "
                                               "left (the file is the whole roster).")
@click.option("--lang", type=click.Choice(["kk", "ru", "en"]), default="en", show_default=True,
              help="Language of the report.")
def import_roster(files: tuple[Path, ...], school_id: int, school_year: int | None, commit: bool,
                  mark_left: bool, lang: str) -> None:
    """Check FILES (one XLSX or up to three CSV) against the school's records; with --commit, import them."""
    school = db.session.get(School, school_id)
    if school is None:
        raise click.UsageError(f"no school with id {school_id}")
    year = school_year or services.current_school_year()
    with force_locale(lang):
        result = services.read([(path.name, path.read_bytes()) for path in files])
        with click.progressbar(length=max(1, 2 * result.row_count), label="Checking", file=sys.stderr) as bar:
            plan = services.build_plan(school=school, school_year=year, result=result, progress=bar.update)
        _print_report(plan)
        if not plan.can_commit:
            _print_counts(plan.counts())
            click.echo("Nothing was changed: correct the file and run the command again.", err=True)
            sys.exit(1)
        if not commit:
            _print_counts(plan.counts())
            click.echo("Checked only: add --commit to import.")
            return
        rows = len(plan.pupils) + len(plan.parents)
        with click.progressbar(length=max(1, rows), label="Importing", file=sys.stderr) as bar:
            counts = services.apply(plan, actor=None, school=school, mark_left=mark_left, progress=bar.update,
                                    via="cli")
        _print_counts(counts)
        click.echo(f"Imported: {counts['rows']} rows processed.")
