"""``flask instruments ...`` commands: score answers, print FHIR Questionnaires, validate folders.

A :class:`click.Group` (no Flask import); the app registers it with ``app.cli.add_command``.
Bad input, usage errors included, prints one line on stderr and exits with status 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NoReturn

import click

from app.screening.fhir import questionnaire
from app.screening.instruments import (
    InstrumentRegistry,
    InstrumentValidationError,
    UnknownInstrumentError,
    instruments_root,
    load_instrument_folder,
    load_registry,
    manifest_text,
    version_folders,
)
from app.screening.scoring import ScoringInputError, score

__all__ = ["instruments"]

EXIT_BAD_INPUT = 2


def _fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    raise SystemExit(EXIT_BAD_INPUT)


def _registry() -> InstrumentRegistry:
    try:
        return load_registry(instruments_root())
    except InstrumentValidationError as exc:
        _fail(f"instrument data under {instruments_root()} is invalid: {exc.errors[0]}"
              + (f" (and {len(exc.errors) - 1} more)" if len(exc.errors) > 1 else ""))


def _dump(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _one_line(error: click.UsageError) -> NoReturn:
    _fail(error.format_message().replace("\n", " "))


class _Command(click.Command):
    """A command whose usage errors (unknown option, missing argument, bad --age) are one line, exit 2."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            _one_line(error)


class _Group(click.Group):
    """The group: an unknown command is one line, exit 2, like every other bad input."""

    command_class = _Command

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None,
                                                                              list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as error:
            _one_line(error)


@click.group("instruments", cls=_Group)
def instruments() -> None:
    """Screening instruments: score, export and validate."""


def answer_values(instrument: Any, answers: dict[str, Any]) -> dict[str, Any]:
    """Answers as option values: integers as they are, and the answer codes the exported FHIR Questionnaire
    gives (``answerOption.valueCoding.code``: the value as a string, e.g. "0" or "9", or an option's own code)."""
    known = set(instrument.item_ids)
    converted: dict[str, Any] = {}
    for item_id, given in answers.items():
        if item_id not in known or not isinstance(given, str):
            converted[item_id] = given  # scoring names an unknown item or a wrong type
            continue
        item = instrument.item(item_id)
        codes = {str(o.value): o.value for o in item.options}
        codes |= {o.code.code: o.value for o in item.options if o.code is not None}
        if given.strip() not in codes:
            raise ScoringInputError(f"item {item_id!r}: {given!r} is not an answer code of this item "
                                    f"(codes: {', '.join(sorted(codes))})")
        converted[item_id] = codes[given.strip()]
    return converted


@instruments.command("score")
@click.argument("instrument_id")
@click.argument("answers_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--version", "version", default=None, help="Instrument version (default: latest).")
@click.option("--age", type=int, default=None, help="Pupil's age in years (for age-specific cut-offs).")
def score_command(instrument_id: str, answers_file: Path, version: str | None, age: int | None) -> None:
    """Score ANSWERS_FILE (JSON object: item id → option value or exported answer code; absent = unanswered)."""
    instrument = _get(instrument_id, version)
    try:
        answers = json.loads(answers_file.read_text(encoding="utf-8"))
    except OSError as exc:
        _fail(f"cannot read {answers_file}: {exc.strerror}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        _fail(f"{answers_file} is not valid JSON: {exc}")
    if not isinstance(answers, dict):
        _fail(f"{answers_file} must hold a JSON object of item id → option value")
    try:
        result = score(instrument, answer_values(instrument, answers), age=age)
    except ScoringInputError as exc:
        _fail(str(exc))
    _dump({"instrument": instrument.id, "version": instrument.version,
           "scales": dict(result.scales), "bands": dict(result.bands),
           "alerts": [a.as_dict() for a in result.alerts]})


def _get(instrument_id: str, version: str | None) -> Any:
    try:
        return _registry().get(instrument_id, version)
    except UnknownInstrumentError as exc:
        _fail(str(exc))


@instruments.command("questionnaire")
@click.argument("instrument_id")
@click.option("--version", "version", default=None, help="Instrument version (default: latest).")
@click.option("--lang", default="en", show_default=True, help="Language of the texts (kk, ru, en).")
def questionnaire_command(instrument_id: str, version: str | None, lang: str) -> None:
    """Print the FHIR R4 Questionnaire for INSTRUMENT_ID."""
    instrument = _get(instrument_id, version)
    try:
        _dump(questionnaire(instrument, lang))
    except UnknownInstrumentError as exc:
        _fail(str(exc))


@instruments.command("validate")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
def validate_command(path: Path) -> None:
    """Validate one instrument version folder, or every version under an instruments root."""
    folders = [path] if (path / "instrument.yaml").is_file() else version_folders(path)
    if not folders:
        _fail(f"{path} holds no instrument.yaml (expected <id>/<version>/instrument.yaml)")
    errors: list[str] = []
    for folder in folders:
        try:
            load_instrument_folder(folder)
        except InstrumentValidationError as exc:
            errors += exc.errors
    if errors:
        for line in errors:
            click.echo(line, err=True)
        raise SystemExit(EXIT_BAD_INPUT)
    click.echo(f"OK: {len(folders)} instrument version(s) valid")


@instruments.command("manifest")
def manifest_command() -> None:
    """Print MANIFEST.sha256 lines for the instruments root (review before committing)."""
    click.echo(manifest_text(instruments_root()), nl=False)
