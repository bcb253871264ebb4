"""``flask guidance import-content [DIR]``: load the content files as national published articles."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

guidance_cli = AppGroup("guidance", help="Guidance library.")


@guidance_cli.command("import-content")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
def import_content_command(directory: Path | None) -> None:
    """Load DIR/<slug>/ (default: app/guidance/content) as national published articles; unchanged folders are
    skipped, a changed folder becomes a new version. Exit code 1 if a folder has an error."""
    from app.guidance.importer import import_content

    report = import_content(directory)
    for _slug, error in report.errors:
        click.echo(f"error: {error}", err=True)
    for label, slugs in (("new", report.created), ("updated", report.updated)):
        for slug in slugs:
            click.echo(f"{label}: {slug}")
    click.echo(report.summary())
    if report.errors:
        sys.exit(1)
